//! MD5 (RFC 1321) of [`LANES`] independent byte streams at once. Each step of one MD5 waits on
//! the previous step, so a single stream leaves most of the CPU idle; here every step is done
//! for four lanes per SIMD instruction (`wide`'s `u32x4`: SSE2 on x86-64, NEON on aarch64), four
//! such groups interleaved, which hashes about four times as many bytes per second as one stream
//! at a time. The file digests of the walk (`files.rs`) feed one file per lane.

use std::ops::{BitAnd, BitOr, BitXor, Not};

use wide::u32x4;

/// Streams hashed together: four groups of four.
pub(crate) const LANES: usize = 16;
const GROUPS: usize = LANES / 4;

/// Sine-derived additive constants, `floor(abs(sin(i + 1)) * 2^32)`.
const K: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
];

/// Left-rotation amounts, four per round.
const S: [u32; 16] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

/// The initial state (A, B, C, D).
const INIT: [u32; 4] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];

/// A block of zeros for lanes without a stream.
pub(crate) const IDLE_BLOCK: [u8; 64] = [0; 64];

/// A 32-bit word, or four of them in one vector.
trait Word:
    Copy + BitAnd<Output = Self> + BitOr<Output = Self> + BitXor<Output = Self> + Not<Output = Self>
{
    fn splat(v: u32) -> Self;
    fn wrapping_add(self, other: Self) -> Self;
    fn rotl(self, s: u32) -> Self;
}

impl Word for u32 {
    #[inline(always)]
    fn splat(v: u32) -> Self {
        v
    }
    #[inline(always)]
    fn wrapping_add(self, other: Self) -> Self {
        u32::wrapping_add(self, other)
    }
    #[inline(always)]
    fn rotl(self, s: u32) -> Self {
        self.rotate_left(s)
    }
}

impl Word for u32x4 {
    #[inline(always)]
    fn splat(v: u32) -> Self {
        u32x4::splat(v)
    }
    #[inline(always)]
    fn wrapping_add(self, other: Self) -> Self {
        // lane-wise addition wraps
        self + other
    }
    #[inline(always)]
    fn rotl(self, s: u32) -> Self {
        self.unbounded_shl_scalar(s) | self.unbounded_shr_scalar(32 - s)
    }
}

/// One step of round `R`: `a = b + ((a + f(b, c, d) + k + m) <<< s)`.
#[inline(always)]
fn step<W: Word, const R: usize>(a: W, b: W, c: W, d: W, m: W, k: u32, s: u32) -> W {
    let f = match R {
        0 => (b & c) | (!b & d),
        1 => (b & d) | (c & !d),
        2 => b ^ c ^ d,
        _ => c ^ (b | !d),
    };
    b.wrapping_add(
        a.wrapping_add(f)
            .wrapping_add(W::splat(k))
            .wrapping_add(m)
            .rotl(s),
    )
}

/// The 64 steps of one block in each of `G` groups; `w[j][g]` is word `j` of group `g`'s block.
/// The groups' steps are interleaved so their latencies overlap.
#[inline(always)]
fn compress<W: Word, const G: usize>(state: &mut [[W; G]; 4], w: &[[W; G]; 16]) {
    let [mut a, mut b, mut c, mut d] = *state;
    macro_rules! round {
        ($r:literal, $g:expr) => {
            for q in 0..4 {
                let i = $r * 16 + q * 4;
                let s = $r * 4;
                for l in 0..G {
                    a[l] = step::<W, $r>(a[l], b[l], c[l], d[l], w[$g(i)][l], K[i], S[s]);
                }
                for l in 0..G {
                    d[l] =
                        step::<W, $r>(d[l], a[l], b[l], c[l], w[$g(i + 1)][l], K[i + 1], S[s + 1]);
                }
                for l in 0..G {
                    c[l] =
                        step::<W, $r>(c[l], d[l], a[l], b[l], w[$g(i + 2)][l], K[i + 2], S[s + 2]);
                }
                for l in 0..G {
                    b[l] =
                        step::<W, $r>(b[l], c[l], d[l], a[l], w[$g(i + 3)][l], K[i + 3], S[s + 3]);
                }
            }
        };
    }
    round!(0, |i: usize| i % 16);
    round!(1, |i: usize| (5 * i + 1) % 16);
    round!(2, |i: usize| (3 * i + 5) % 16);
    round!(3, |i: usize| (7 * i) % 16);
    for (s, v) in state.iter_mut().zip([a, b, c, d]) {
        for l in 0..G {
            s[l] = s[l].wrapping_add(v[l]);
        }
    }
}

/// Little-endian words of one block.
#[inline(always)]
fn words(block: &[u8; 64]) -> [u32; 16] {
    let (quads, _) = block.as_chunks::<4>();
    let mut w = [0u32; 16];
    for (w, q) in w.iter_mut().zip(quads) {
        *w = u32::from_le_bytes(*q);
    }
    w
}

/// [`LANES`] MD5 computations in step; each lane is reset, fed whole blocks (the caller appends
/// [`padding`] after a stream's last byte) and read out on its own.
pub(crate) struct Md5Lanes {
    /// A, B, C, D; lane `l` is element `l % 4` of group `l / 4`.
    state: [[u32x4; GROUPS]; 4],
}

impl Md5Lanes {
    /// Every lane at the initial state.
    pub(crate) fn new() -> Self {
        Self {
            state: INIT.map(|v| [u32x4::splat(v); GROUPS]),
        }
    }

    /// Starts a new stream in `lane`.
    pub(crate) fn reset(&mut self, lane: usize) {
        for (s, v) in self.state.iter_mut().zip(INIT) {
            let mut group = s[lane / 4].to_array();
            group[lane % 4] = v;
            s[lane / 4] = u32x4::new(group);
        }
    }

    /// Hashes one block in every lane: `blocks[l]` in lane `l` ([`IDLE_BLOCK`] for an idle lane).
    pub(crate) fn compress(&mut self, blocks: [&[u8; 64]; LANES]) {
        let mut w = [[u32x4::splat(0); GROUPS]; 16];
        for (g, group) in blocks.as_chunks::<4>().0.iter().enumerate() {
            // four words of each of the four lanes, transposed to one word of four lanes
            for q in 0..4 {
                let rows = group.map(|block| {
                    let (quads, _) = block[16 * q..16 * q + 16].as_chunks::<4>();
                    u32x4::new(
                        [0, 1, 2, 3].map(|k| quads.get(k).map_or(0, |b| u32::from_le_bytes(*b))),
                    )
                });
                for (k, col) in u32x4::transpose(rows).into_iter().enumerate() {
                    w[4 * q + k][g] = col;
                }
            }
        }
        compress(&mut self.state, &w);
    }

    /// The state of `lane`, to go on with [`Md5One`].
    pub(crate) fn lane(&self, lane: usize) -> Md5One {
        Md5One {
            state: self.state.map(|s| [s[lane / 4].to_array()[lane % 4]]),
        }
    }

    /// The digest of the stream in `lane` after its padding.
    pub(crate) fn digest(&self, lane: usize) -> [u8; 16] {
        self.lane(lane).digest()
    }
}

/// One MD5 computation over whole blocks (padding appended by the caller).
pub(crate) struct Md5One {
    state: [[u32; 1]; 4],
}

impl Md5One {
    /// Hashes one block.
    pub(crate) fn compress(&mut self, block: &[u8; 64]) {
        compress(&mut self.state, &words(block).map(|v| [v]));
    }

    /// The digest after the padding.
    pub(crate) fn digest(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        for (o, s) in out.chunks_exact_mut(4).zip(self.state) {
            o.copy_from_slice(&s[0].to_le_bytes());
        }
        out
    }
}

/// Appends the MD5 padding of a stream of `len` bytes to `out`: `0x80`, zeros up to 56 mod 64,
/// then the length in bits (little-endian, modulo 2^64). At most 72 bytes.
pub(crate) fn padding(len: u64, out: &mut [u8]) -> usize {
    let zeros = (55u64.wrapping_sub(len) % 64) as usize;
    let total = 1 + zeros + 8;
    out[0] = 0x80;
    out[1..=zeros].fill(0);
    out[1 + zeros..total].copy_from_slice(&len.wrapping_mul(8).to_le_bytes());
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use md5::{Digest as _, Md5};

    /// The sine table is what RFC 1321 defines.
    #[test]
    fn constants_are_the_sine_table() {
        for (i, k) in K.iter().enumerate() {
            let v = ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0).floor() as u32;
            assert_eq!(*k, v, "K[{i}]");
        }
    }

    fn md5_one(data: &[u8]) -> [u8; 16] {
        let mut padded = data.to_vec();
        let mut pad = [0u8; 72];
        let n = padding(data.len() as u64, &mut pad);
        padded.extend_from_slice(&pad[..n]);
        assert_eq!(padded.len() % 64, 0);
        let mut h = Md5One {
            state: INIT.map(|v| [v]),
        };
        for block in padded.as_chunks::<64>().0 {
            h.compress(block);
        }
        h.digest()
    }

    /// One stream at every length around the padding boundaries equals the md-5 crate
    /// (synthetic content).
    #[test]
    fn synthetic_single_stream_equals_md5_crate_at_padding_boundaries() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 253) as u8).collect();
        for len in (0..=200).chain([447, 448, 999, 1000]) {
            let d = &data[..len];
            assert_eq!(md5_one(d), <[u8; 16]>::from(Md5::digest(d)), "len {len}");
        }
    }

    /// Sixteen streams of different lengths, hashed in step (a finished lane idles on zero
    /// blocks), each equal the md-5 crate (synthetic content).
    #[test]
    fn synthetic_lanes_in_step_equal_md5_crate() {
        let streams: Vec<Vec<u8>> = (0..LANES)
            .map(|l| {
                (0..l * 97 + 3)
                    .map(|i| (i * 31 + l * 17) as u8)
                    .collect::<Vec<u8>>()
            })
            .collect();
        let padded: Vec<Vec<u8>> = streams
            .iter()
            .map(|s| {
                let mut p = s.clone();
                let mut pad = [0u8; 72];
                let n = padding(s.len() as u64, &mut pad);
                p.extend_from_slice(&pad[..n]);
                p
            })
            .collect();
        let blocks = padded.iter().map(|p| p.len() / 64).max().unwrap_or(0);
        let mut lanes = Md5Lanes::new();
        let mut done: Vec<Option<[u8; 16]>> = vec![None; LANES];
        for k in 0..blocks {
            let mut b = [&IDLE_BLOCK; LANES];
            for (l, p) in padded.iter().enumerate() {
                if let Some(block) = p.as_chunks::<64>().0.get(k) {
                    b[l] = block;
                }
            }
            lanes.compress(b);
            for (l, p) in padded.iter().enumerate() {
                if p.len() / 64 == k + 1 {
                    done[l] = Some(lanes.digest(l));
                }
            }
        }
        for (s, d) in streams.iter().zip(done) {
            assert_eq!(d, Some(<[u8; 16]>::from(Md5::digest(s))));
        }
    }
}
