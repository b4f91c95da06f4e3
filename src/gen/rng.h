/* rng.h - seedable pseudo-random numbers for floe emit.
 * xoshiro256** seeded through splitmix64: the same seed gives the same
 * sequence on every platform. All state lives in the caller's struct (no
 * globals), so independent streams can run side by side. Not for secrets. */
#ifndef FLOE_GEN_RNG_H
#define FLOE_GEN_RNG_H

#include <stdbool.h>
#include <stdint.h>

#define FLOE_RNG_UUID_LEN 36 /* text form, NUL excluded */

struct floe_rng {
    uint64_t s[4];
};

/* One splitmix64 step: advances *state and returns a well-mixed value.
 * Also a good 64-bit hash for deriving sub-seeds. */
uint64_t floe_rng_mix(uint64_t *state);
/* Seed `r` from `seed` (any value, 0 included). Cannot fail. */
void floe_rng_seed(struct floe_rng *r, uint64_t seed);
uint64_t floe_rng_next(struct floe_rng *r);
/* Uniform in [0, n); n == 0 gives 0. Unbiased (Lemire's method). */
uint64_t floe_rng_below(struct floe_rng *r, uint64_t n);
/* Uniform in [0, 1). */
double floe_rng_unit(struct floe_rng *r);
/* True with probability p (p <= 0: never, p >= 1: always). */
bool floe_rng_chance(struct floe_rng *r, double p);
/* A version 4 UUID drawn from `r`, lower-case, into
 * out[FLOE_RNG_UUID_LEN + 1]. */
void floe_rng_uuid(struct floe_rng *r, char out[FLOE_RNG_UUID_LEN + 1]);

#endif
