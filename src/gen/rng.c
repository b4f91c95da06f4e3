/* rng.c - xoshiro256** with splitmix64 seeding (see rng.h).
 * Reference algorithms by Blackman and Vigna (public domain); every
 * operation is on fixed-width unsigned integers, so output is identical on
 * every platform and compiler. */
#include "gen/rng.h"

#include "core/util.h"

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t floe_rng_mix(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void floe_rng_seed(struct floe_rng *r, uint64_t seed)
{
    uint64_t st = seed;
    int i;

    for (i = 0; i < 4; i++)
        r->s[i] = floe_rng_mix(&st);
    /* splitmix64 never yields four zero words, but be explicit: the
     * all-zero state is the one xoshiro cannot leave. */
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
        r->s[0] = 1;
}

uint64_t floe_rng_next(struct floe_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

uint64_t floe_rng_below(struct floe_rng *r, uint64_t n)
{
    unsigned __int128 m;
    uint64_t lo, threshold;

    if (n == 0)
        return 0;
    m = (unsigned __int128)floe_rng_next(r) * n;
    lo = (uint64_t)m;
    if (lo < n) {
        threshold = -n % n; /* 2^64 mod n */
        while (lo < threshold) {
            m = (unsigned __int128)floe_rng_next(r) * n;
            lo = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double floe_rng_unit(struct floe_rng *r)
{
    return (double)(floe_rng_next(r) >> 11) * 0x1.0p-53;
}

bool floe_rng_chance(struct floe_rng *r, double p)
{
    if (p <= 0)
        return false;
    if (p >= 1)
        return true;
    return floe_rng_unit(r) < p;
}

void floe_rng_uuid(struct floe_rng *r, char out[FLOE_RNG_UUID_LEN + 1])
{
    uint64_t a = floe_rng_next(r), c = floe_rng_next(r);
    unsigned char b[16];
    int i;

    for (i = 0; i < 8; i++) {
        b[i] = (unsigned char)(a >> (8 * i));
        b[8 + i] = (unsigned char)(c >> (8 * i));
    }
    floe_uuid_format(b, out);
}
