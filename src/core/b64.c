/* b64.c - standard base64 with padding (b64.h).
 * Decoding runs at memory speed for the Firehose put path: full
 * 4-character groups go through four 256-entry tables that hold each
 * character's 6 bits already in place (an invalid character sets bit 24),
 * two groups per step; on x86-64 CPUs with AVX2, 32 characters per step
 * (the nibble-table validation and multiply-add packing published by Mula
 * and Lemire). Only the last group may hold '='. A block with an invalid
 * character falls to the table loop, which stops at it, so every path
 * accepts exactly the same inputs (tests/unit/test_b64.c checks them
 * against a plain reference decoder). */
#include "core/b64.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t floe_b64_enc_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

size_t floe_b64_enc(const void *src, size_t n, char *out)
{
    const unsigned char *s = src;
    size_t i, o = 0;

    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = b64[(v >> 6) & 63];
        out[o++] = b64[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)s[i + 1] << 8;
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    return o;
}

size_t floe_b64_dec_max(size_t n)
{
    return n / 4 * 3 + 3;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_AVX2_PATH 1
#include <immintrin.h>
#endif

#define BAD 0x01000000u

static uint32_t d0[256], d1[256], d2[256], d3[256];
static int8_t rev[256];
static bool use_avx2;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void)
{
    const char *a = b64;
    int i;

    for (i = 0; i < 256; i++) {
        d0[i] = d1[i] = d2[i] = d3[i] = BAD;
        rev[i] = -1;
    }
    for (i = 0; i < 64; i++) {
        unsigned char ch = (unsigned char)a[i];

        d0[ch] = (uint32_t)i << 18;
        d1[ch] = (uint32_t)i << 12;
        d2[ch] = (uint32_t)i << 6;
        d3[ch] = (uint32_t)i;
        rev[ch] = (int8_t)i;
    }
#ifdef HAVE_AVX2_PATH
    use_avx2 = __builtin_cpu_supports("avx2");
#endif
}

#ifdef HAVE_AVX2_PATH
/* Decode 32-character blocks while `blocks` > 0 and they are valid; the
 * store writes 32 bytes for 24, so the caller keeps 8 bytes of output
 * ahead (later groups overwrite them). Returns blocks done. */
__attribute__((target("avx2"))) static size_t
avx2_blocks(const unsigned char *s, unsigned char *o, size_t blocks)
{
    const __m256i lut_lo = _mm256_setr_epi8(
        0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13,
        0x1A, 0x1B, 0x1B, 0x1B, 0x1A, 0x15, 0x11, 0x11, 0x11, 0x11, 0x11,
        0x11, 0x11, 0x11, 0x11, 0x13, 0x1A, 0x1B, 0x1B, 0x1B, 0x1A);
    const __m256i lut_hi = _mm256_setr_epi8(
        0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10,
        0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x01, 0x02, 0x04, 0x08,
        0x04, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10);
    const __m256i lut_roll = _mm256_setr_epi8(
        0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 19,
        4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m256i mask_2f = _mm256_set1_epi8(0x2F);
    const __m256i pack = _mm256_setr_epi8(
        2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1, 2, 1, 0, 6,
        5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, -1, -1);
    size_t done;

    for (done = 0; done < blocks; done++) {
        __m256i str = _mm256_loadu_si256((const __m256i *)(s + 32 * done));
        __m256i hi_n = _mm256_and_si256(_mm256_srli_epi32(str, 4), mask_2f);
        __m256i lo_n = _mm256_and_si256(str, mask_2f);
        __m256i hi = _mm256_shuffle_epi8(lut_hi, hi_n);
        __m256i lo = _mm256_shuffle_epi8(lut_lo, lo_n);
        __m256i roll, merged;

        if (!_mm256_testz_si256(lo, hi))
            break; /* an invalid character: the scalar loop finds it */
        roll = _mm256_shuffle_epi8(
            lut_roll, _mm256_add_epi8(_mm256_cmpeq_epi8(str, mask_2f), hi_n));
        str = _mm256_add_epi8(str, roll); /* now 6-bit values */
        merged = _mm256_maddubs_epi16(str, _mm256_set1_epi32(0x01400140));
        merged = _mm256_madd_epi16(merged, _mm256_set1_epi32(0x00011000));
        merged = _mm256_shuffle_epi8(merged, pack);
        merged = _mm256_permutevar8x32_epi32(merged, lanes);
        _mm256_storeu_si256((__m256i *)(o + 24 * done), merged);
    }
    return done;
}
#endif

int floe_b64_dec(const char *src, size_t n, void *out, size_t *out_len)
{
    const unsigned char *s = (const unsigned char *)src;
    unsigned char *o = out;
    size_t i = 0, body;
    int pad = 0, a, b, c, d;

    pthread_once(&once, init);
    if (n % 4 != 0)
        return FLOE_EINVAL;
    if (n == 0) {
        *out_len = 0;
        return FLOE_OK;
    }
    body = n - 4; /* every group but the last: no '=' allowed */
#ifdef HAVE_AVX2_PATH
    /* Keep 16 characters (>= 10 output bytes) after the blocks so the
     * 8 spare bytes each store writes fall inside the output. */
    if (use_avx2 && body >= 48) {
        size_t blocks = (body - 16) / 32, done;

        done = avx2_blocks(s, o, blocks);
        i = 32 * done;
        o += 24 * done;
    }
#endif
    for (; i + 8 <= body; i += 8) {
        uint32_t x = d0[s[i]] | d1[s[i + 1]] | d2[s[i + 2]] | d3[s[i + 3]];
        uint32_t y = d0[s[i + 4]] | d1[s[i + 5]] | d2[s[i + 6]] |
                     d3[s[i + 7]];

        if ((x | y) & BAD)
            return FLOE_EINVAL;
        o[0] = (unsigned char)(x >> 16);
        o[1] = (unsigned char)(x >> 8);
        o[2] = (unsigned char)x;
        o[3] = (unsigned char)(y >> 16);
        o[4] = (unsigned char)(y >> 8);
        o[5] = (unsigned char)y;
        o += 6;
    }
    for (; i < body; i += 4) {
        uint32_t x = d0[s[i]] | d1[s[i + 1]] | d2[s[i + 2]] | d3[s[i + 3]];

        if (x & BAD)
            return FLOE_EINVAL;
        o[0] = (unsigned char)(x >> 16);
        o[1] = (unsigned char)(x >> 8);
        o[2] = (unsigned char)x;
        o += 3;
    }
    /* The last group, the only one that may hold '='. */
    if (s[n - 1] == '=')
        pad++;
    if (n >= 2 && s[n - 2] == '=')
        pad++;
    a = rev[s[i]];
    b = rev[s[i + 1]];
    c = pad == 2 ? 0 : rev[s[i + 2]];
    d = pad >= 1 ? 0 : rev[s[i + 3]];
    if ((a | b | c | d) < 0)
        return FLOE_EINVAL;
    {
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 |
                     (uint32_t)c << 6 | (uint32_t)d;

        *o++ = (unsigned char)(v >> 16);
        if (pad < 2)
            *o++ = (unsigned char)(v >> 8);
        if (pad < 1)
            *o++ = (unsigned char)v;
    }
    *out_len = (size_t)(o - (unsigned char *)out);
    return FLOE_OK;
}
