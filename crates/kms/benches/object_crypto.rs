//! Throughput of the chunked object format on a 64 MiB object.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use strongbox_kms::object_crypto::{decrypt_all, ChunkLayout, Encryptor, ObjectCipher};

const SIZE: usize = 64 * 1024 * 1024;
const KEY: [u8; 32] = [0x42; 32];
const NONCE: [u8; 12] = [0x24; 12];

fn cipher() -> ObjectCipher {
    ObjectCipher::new(&KEY, NONCE, b"bench-bucket/bench-key/null").unwrap()
}

fn bench(c: &mut Criterion) {
    let layout = ChunkLayout::default();
    let plaintext: Vec<u8> = (0..SIZE).map(|i| (i % 251) as u8).collect();
    let mut group = c.benchmark_group("object_crypto_64MiB");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(SIZE as u64));
    group.bench_function("encrypt", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(layout.ciphertext_len(SIZE as u64) as usize);
            let mut enc = Encryptor::new(cipher(), layout);
            // Feed in 1 MiB pieces, as a request body would arrive.
            for piece in plaintext.chunks(1024 * 1024) {
                enc.update(piece, &mut out).unwrap();
            }
            enc.finish(&mut out).unwrap();
            out
        })
    });
    let mut ciphertext = Vec::new();
    let mut enc = Encryptor::new(cipher(), layout);
    enc.update(&plaintext, &mut ciphertext).unwrap();
    enc.finish(&mut ciphertext).unwrap();
    group.bench_function("decrypt", |b| {
        b.iter(|| decrypt_all(cipher(), layout, &ciphertext).unwrap())
    });
    group.finish();

    // One chunk into a reused buffer: the cipher alone, without allocation or page faults.
    let chunk = &plaintext[..layout.plaintext_chunk];
    let mut group = c.benchmark_group("object_crypto_chunk");
    group.throughput(Throughput::Bytes(chunk.len() as u64));
    let cipher = cipher();
    let mut out = Vec::with_capacity(chunk.len() + 16);
    group.bench_function("seal_64KiB", |b| {
        b.iter(|| {
            out.clear();
            cipher.encrypt_chunk(0, false, chunk, &mut out).unwrap();
            out.len()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
