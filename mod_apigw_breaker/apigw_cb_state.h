/* Circuit-breaker states and the table that holds them (pure: APR types
 * and GCC atomics, no httpd). The table lives in shared memory made by
 * apigw_cb_shm.c, so every child process and thread sees one state per
 * breaker; nothing here takes a lock.
 *
 * A slot is one breaker's state (or, with scope=backend, one breaker's
 * state for one backend): its key, the packed state word, the time of the
 * next evaluation and its rolling window.
 *
 * The state word packs, in 64 bits, the state (2 bits), an epoch (16 bits,
 * bumped at every trip) and the time the state began (milliseconds, 46
 * bits), so one compare-and-swap moves a breaker from one state to the
 * next: of several processes that see a reason to change it, exactly one
 * does, and only that one logs it. Outcomes of requests admitted in an
 * earlier epoch (in flight when the breaker tripped) are not counted.
 *
 *   standby     --condition holds-->            tripped (window emptied)
 *   tripped     --fallback elapsed-->           recovering
 *   recovering  --condition holds-->            tripped
 *   recovering  --recovery elapsed, it does not--> standby
 *
 * Table: open addressing over 16 neighbouring slots from key % nslots; a
 * slot is claimed with a compare-and-swap on its key. Slots of
 * scope=endpoint breakers are claimed once in the parent and pinned;
 * scope=backend slots are claimed by requests, and a slot idle (standby,
 * unused) for APIGW_CB_IDLE_SECS may be taken over when its neighbourhood
 * is full. */
#ifndef APIGW_CB_STATE_H
#define APIGW_CB_STATE_H

#include "apigw_cb_window.h"

#define APIGW_CB_LABEL_LEN 128
#define APIGW_CB_PROBE 16
#define APIGW_CB_IDLE_SECS 300
#define APIGW_CB_STATE_MASK 3u      /* the state: the word's low 2 bits */

typedef enum {
    APIGW_CB_STANDBY = 0,
    APIGW_CB_TRIPPED = 1,
    APIGW_CB_RECOVERING = 2
} apigw_cb_state;

typedef struct {
    apr_uint64_t key;           /* 0: free; top bit set while set up */
    apr_uint64_t owner;         /* the identity of the breaker */
    apr_uint64_t word;          /* state | epoch | since (see above) */
    apr_uint64_t next_check;    /* microseconds: evaluate again from then */
    apr_uint64_t trips;         /* times tripped since the slot was claimed */
    apr_uint64_t last_used;     /* seconds */
    apr_uint32_t pinned;        /* a scope=endpoint breaker's: never taken */
    apr_uint32_t pad;
    char label[APIGW_CB_LABEL_LEN];     /* the backend, with scope=backend */
    apigw_cb_window window;
} apigw_cb_slot;

typedef struct {
    apr_uint64_t magic;
    apr_uint32_t version;
    apr_uint32_t slot_size;
    apr_uint64_t nslots;
    apr_uint64_t reserved;
    apigw_cb_slot slots[];
} apigw_cb_table;

/* The durations of one breaker. */
typedef struct {
    apr_interval_time_t check;
    apr_interval_time_t fallback;
    apr_interval_time_t recovery;
} apigw_cb_timing;

/* A state word taken apart. */
typedef struct {
    apigw_cb_state state;
    unsigned epoch;
    apr_time_t since;           /* microseconds, millisecond precision */
} apigw_cb_view;

/* A state change made by the caller. */
typedef struct {
    apigw_cb_state from;
    apigw_cb_state to;
    apr_time_t at;
} apigw_cb_change;

const char *apigw_cb_state_name(apigw_cb_state s);

apigw_cb_view apigw_cb_view_of(apr_uint64_t word);
apr_uint64_t apigw_cb_word(apigw_cb_state s, unsigned epoch, apr_time_t since);
apr_uint64_t apigw_cb_slot_word(const apigw_cb_slot *s);

/* ---- the table ---- */

/* A key for an identity (and a backend, or NULL): never 0. */
apr_uint64_t apigw_cb_key(const char *id, const char *backend);

apr_size_t apigw_cb_table_bytes(apr_uint64_t nslots);

/* Lays out an empty table of as many slots as fit in bytes; NULL when not
 * even one does. */
apigw_cb_table *apigw_cb_table_init(void *mem, apr_size_t bytes);

/* The table already in mem (after a graceful restart), or NULL when mem
 * does not hold one of this layout. */
apigw_cb_table *apigw_cb_table_attach(void *mem, apr_size_t bytes);

/* The slot of key, claimed (standby, empty window) if it has none yet;
 * NULL when its neighbourhood is full. label may be NULL. */
apigw_cb_slot *apigw_cb_table_claim(apigw_cb_table *t, apr_uint64_t key,
                                    apr_uint64_t owner, const char *label,
                                    apr_time_t now);

/* Frees every slot whose owner is not one of owners[0..n), and unpins the
 * others (the parent, between generations, before claiming again). */
void apigw_cb_table_free_unowned(apigw_cb_table *t, const apr_uint64_t *owners,
                                 int n);

/* The slot of key in a pool of slots shared by keys that come and go
 * (runtime routes' breakers: claimed at first use, never pinned, never
 * freed): found, or claimed (standby, empty window) with a
 * compare-and-swap. A key is looked for from key % nslots on, up to the
 * first slot never used; when it is not there, it takes the stalest slot
 * seen on the way if that one was unused for idle_secs, else that never
 * used slot, else (the pool is full) the stalest slot of the pool,
 * whatever its state. Every find counts as a use (last_used, at most one
 * write a second). NULL only when every try met a slot being set up.
 * Two processes claiming one key at once in a full pool may each take a
 * slot; the one found first is used, the other ages out. */
apigw_cb_slot *apigw_cb_pool_claim(apigw_cb_table *t, apr_uint64_t key,
                                   apr_uint64_t owner, const char *label,
                                   apr_time_t now, apr_uint64_t idle_secs);

/* Does s still belong to key (it may have been freed and taken since)? */
int apigw_cb_slot_is(const apigw_cb_slot *s, apr_uint64_t key);

/* ---- the state machine ---- */

/* The common case, checked inline on every request: standby and no
 * evaluation due yet, so there is nothing to do. */
static inline int apigw_cb_slot_quiet(const apigw_cb_slot *s, apr_time_t now,
                                      apr_uint64_t *word)
{
    *word = __atomic_load_n(&s->word, __ATOMIC_ACQUIRE);
    return (*word & APIGW_CB_STATE_MASK) == APIGW_CB_STANDBY && now >= 0
        && (apr_uint64_t)now < __atomic_load_n(&s->next_check,
                                               __ATOMIC_RELAXED);
}

/* Moves tripped to recovering once its fallback has elapsed. Returns the
 * current word; fills *ch and returns with it when this caller moved it. */
apr_uint64_t apigw_cb_slot_tick(apigw_cb_slot *s, const apigw_cb_timing *t,
                                apr_time_t now, apigw_cb_change *ch,
                                int *changed);

/* 1 when the caller is the one to evaluate the condition for this check
 * period (at most one caller per period, across processes). */
int apigw_cb_slot_claim_check(apigw_cb_slot *s, apr_interval_time_t check,
                              apr_time_t now);

/* Applies an evaluation made from word seen: trips when cond holds (from
 * standby or recovering; the window is emptied), returns recovering to
 * standby when the recovery is over and cond does not hold. Returns 1 and
 * fills *ch when it changed the state; 0 when there was nothing to do or
 * someone else changed it first. */
int apigw_cb_slot_apply(apigw_cb_slot *s, apr_uint64_t seen, int cond,
                        const apigw_cb_timing *t, apr_time_t now,
                        apigw_cb_change *ch);

/* The share of requests admitted in state word at now: 1 in standby, 0
 * tripped, growing linearly from 0 to 1 over the recovery. */
double apigw_cb_admission(apr_uint64_t word, const apigw_cb_timing *t,
                          apr_time_t now);

/* Is a request admitted? rnd is uniform in [0, 1). */
int apigw_cb_admit(apr_uint64_t word, const apigw_cb_timing *t,
                   apr_time_t now, double rnd);

/* Counts an outcome of a request admitted in epoch; 0 when it was not
 * counted (the breaker tripped since, or the window dropped it). */
int apigw_cb_slot_record(apigw_cb_slot *s, unsigned epoch, apr_time_t now,
                         const apigw_cb_sample *smp,
                         const apigw_cb_range *ranges, int nranges);

#endif
