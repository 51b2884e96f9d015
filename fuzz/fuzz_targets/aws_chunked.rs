//! aws-chunked bodies (`STREAMING-*` payloads) through the decoder, fed in
//! pieces of varying size. The first byte picks the framing (signed,
//! signed with trailer, unsigned with trailer), whether a checksum trailer is
//! required, and whether the rest is decoded as sent or first encoded by the
//! client encoder (so that chunk and trailer signatures verify and the
//! decoder runs to the end, where the decoded bytes must equal the input).
//! The second byte is the piece size.

#![no_main]

use libfuzzer_sys::fuzz_target;
use strongbox_fuzz::{now, ACCESS_KEY_ID, REGION, SECRET};
use strongbox_sigv4::sign::{
    encode_chunked_signed, encode_chunked_unsigned, Credentials, SigningParams,
};
use strongbox_sigv4::{ChecksumAlgorithm, ChunkedDecoder, PayloadMode};

const SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";

fuzz_target!(|data: &[u8]| {
    let [flags, piece, rest @ ..] = data else {
        return;
    };
    let mode = match flags & 3 {
        0 => PayloadMode::StreamingSigned,
        1 => PayloadMode::StreamingSignedTrailer,
        _ => PayloadMode::StreamingUnsignedTrailer,
    };
    // The trailer the client encoder writes, and whether the decoder requires it.
    let trailer = match mode {
        PayloadMode::StreamingSigned => None,
        PayloadMode::StreamingSignedTrailer => Some(ChecksumAlgorithm::Crc32),
        _ => (flags & 4 != 0).then_some(ChecksumAlgorithm::Crc32),
    };
    let required = trailer.filter(|_| flags & 4 != 0);
    let encode = flags & 8 != 0;
    let credentials = Credentials::new(ACCESS_KEY_ID, SECRET);
    let params = SigningParams {
        credentials: &credentials,
        region: REGION,
        service: "s3",
        time: now(),
    };
    let signing = params.chunk_context(SEED);
    let chunk_size = usize::from(flags >> 4) * 7 + 1;
    let body = match (encode, &mode) {
        (false, _) => rest.to_vec(),
        (true, PayloadMode::StreamingUnsignedTrailer) => {
            encode_chunked_unsigned(rest, chunk_size, trailer)
        }
        (true, _) => encode_chunked_signed(rest, chunk_size, &signing, trailer),
    };
    let declared = encode.then_some(rest.len() as u64);
    let Ok(decoder) = ChunkedDecoder::new(&mode, Some(signing), declared) else {
        return;
    };
    let mut decoder = match required {
        Some(a) => decoder.with_checksum(a),
        None => decoder,
    };
    let mut out = Vec::new();
    let mut ok = true;
    for part in body.chunks(usize::from(*piece).max(1)) {
        if decoder.feed_to_vec(part, &mut out).is_err() {
            ok = false;
            break;
        }
    }
    let _ = decoder.decoded_len();
    let finished = ok && decoder.is_done();
    let result = decoder.finish();
    if encode && ok {
        // What the client encoder wrote, the decoder must read back whole.
        assert!(finished, "an encoded body was not read to its end");
        assert!(result.is_ok(), "an encoded body was refused: {result:?}");
        assert_eq!(out, rest, "decoded bytes differ from the encoded ones");
    }
});
