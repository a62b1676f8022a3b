/* Circuit-breaker states and their lock-free table (see apigw_cb_state.h). */
#include "apigw_cb_state.h"

#include <string.h>

#include <apr_thread_proc.h>

#define TABLE_MAGIC ((apr_uint64_t)0x4150494757434231ULL)   /* "APIGWCB1" */
#define TABLE_VERSION 1u
#define KEY_BUSY ((apr_uint64_t)1 << 63)
#define BUSY_TRIES 200
#define BUSY_SPINS 20       /* yields before waiting in short sleeps */
#define BUSY_SLEEP 100      /* microseconds: about 18 ms in all */

#define STATE_BITS 2
#define EPOCH_BITS 16
#define SINCE_SHIFT (STATE_BITS + EPOCH_BITS)
#define EPOCH_MASK ((1u << EPOCH_BITS) - 1)

static apr_uint64_t load64(const apr_uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static int cas64(apr_uint64_t *p, apr_uint64_t *expected, apr_uint64_t desired)
{
    return __atomic_compare_exchange_n(p, expected, desired, 0,
                                       __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* Waits for a slot another thread or process is setting up: a few yields,
 * then short sleeps, so a setter preempted halfway (a loaded machine) is
 * waited out instead of the claim giving up after a burst of yields. */
static void busy_wait(int tries)
{
    if (tries < BUSY_SPINS) {
        apr_thread_yield();
    }
    else {
        apr_sleep(BUSY_SLEEP);
    }
}

const char *apigw_cb_state_name(apigw_cb_state s)
{
    switch (s) {
    case APIGW_CB_STANDBY:
        return "standby";
    case APIGW_CB_TRIPPED:
        return "tripped";
    default:
        return "recovering";
    }
}

apigw_cb_view apigw_cb_view_of(apr_uint64_t word)
{
    apigw_cb_view v;

    v.state = (apigw_cb_state)(word & ((1u << STATE_BITS) - 1));
    v.epoch = (unsigned)((word >> STATE_BITS) & EPOCH_MASK);
    v.since = (apr_time_t)(word >> SINCE_SHIFT) * 1000;
    return v;
}

apr_uint64_t apigw_cb_word(apigw_cb_state s, unsigned epoch, apr_time_t since)
{
    apr_uint64_t ms = since > 0 ? (apr_uint64_t)since / 1000 : 0;

    return (ms << SINCE_SHIFT) | ((apr_uint64_t)(epoch & EPOCH_MASK)
                                  << STATE_BITS) | (apr_uint64_t)s;
}

apr_uint64_t apigw_cb_slot_word(const apigw_cb_slot *s)
{
    return load64(&s->word);
}

/* ---- the table ---- */

/* FNV-1a over the parts, then a finalizer that spreads the bits. */
static apr_uint64_t fnv(apr_uint64_t h, const char *s)
{
    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

apr_uint64_t apigw_cb_key(const char *id, const char *backend)
{
    apr_uint64_t h = fnv(0xcbf29ce484222325ULL, id);

    if (backend) {
        h ^= 0xff;                      /* a separator no string holds */
        h *= 0x100000001b3ULL;
        h = fnv(h, backend);
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    h &= ~KEY_BUSY;
    return h ? h : 1;
}

apr_size_t apigw_cb_table_bytes(apr_uint64_t nslots)
{
    return sizeof(apigw_cb_table) + (apr_size_t)nslots * sizeof(apigw_cb_slot);
}

apigw_cb_table *apigw_cb_table_init(void *mem, apr_size_t bytes)
{
    apigw_cb_table *t = mem;

    if (!mem || bytes < apigw_cb_table_bytes(1)) {
        return NULL;
    }
    memset(mem, 0, bytes);
    t->magic = TABLE_MAGIC;
    t->version = TABLE_VERSION;
    t->slot_size = (apr_uint32_t)sizeof(apigw_cb_slot);
    t->nslots = (bytes - sizeof(apigw_cb_table)) / sizeof(apigw_cb_slot);
    return t;
}

apigw_cb_table *apigw_cb_table_attach(void *mem, apr_size_t bytes)
{
    apigw_cb_table *t = mem;

    if (!mem || bytes < sizeof(apigw_cb_table) || t->magic != TABLE_MAGIC
        || t->version != TABLE_VERSION
        || t->slot_size != sizeof(apigw_cb_slot) || t->nslots == 0
        || apigw_cb_table_bytes(t->nslots) > bytes) {
        return NULL;
    }
    return t;
}

static void slot_setup(apigw_cb_slot *s, apr_uint64_t key, apr_uint64_t owner,
                       const char *label, apr_time_t now)
{
    apr_size_t len = label ? strlen(label) : 0;

    s->owner = owner;
    __atomic_store_n(&s->word, apigw_cb_word(APIGW_CB_STANDBY, 0, now),
                     __ATOMIC_RELAXED);
    __atomic_store_n(&s->next_check, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&s->trips, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&s->last_used, (apr_uint64_t)apr_time_sec(now),
                     __ATOMIC_RELAXED);
    s->pinned = 0;
    if (len >= APIGW_CB_LABEL_LEN) {
        len = APIGW_CB_LABEL_LEN - 1;
    }
    memcpy(s->label, label ? label : "", len);
    s->label[len] = '\0';
    apigw_cb_window_clear(&s->window);
    __atomic_store_n(&s->key, key, __ATOMIC_RELEASE);
}

static void touch(apigw_cb_slot *s, apr_time_t now)
{
    apr_uint64_t sec = (apr_uint64_t)apr_time_sec(now);

    /* at most one write a second: the line is shared by every child */
    if (__atomic_load_n(&s->last_used, __ATOMIC_RELAXED) != sec) {
        __atomic_store_n(&s->last_used, sec, __ATOMIC_RELAXED);
    }
}

/* A slot nobody needs now: not pinned, standby, unused for a while. */
static int idle(const apigw_cb_slot *s, apr_time_t now)
{
    apr_uint64_t used = __atomic_load_n(&s->last_used, __ATOMIC_RELAXED);

    return !__atomic_load_n(&s->pinned, __ATOMIC_RELAXED)
        && apigw_cb_view_of(load64(&s->word)).state == APIGW_CB_STANDBY
        && used + APIGW_CB_IDLE_SECS < (apr_uint64_t)apr_time_sec(now);
}

apigw_cb_slot *apigw_cb_table_claim(apigw_cb_table *t, apr_uint64_t key,
                                    apr_uint64_t owner, const char *label,
                                    apr_time_t now)
{
    apr_uint64_t n = t->nslots, start = key % n;
    apr_uint64_t probe = n < APIGW_CB_PROBE ? n : APIGW_CB_PROBE;
    int tries;

    for (tries = 0; tries < BUSY_TRIES; tries++) {
        apigw_cb_slot *target = NULL;
        apr_uint64_t expected = 0, oldest = 0, i;
        int busy = 0;

        for (i = 0; i < probe; i++) {
            apigw_cb_slot *s = &t->slots[(start + i) % n];
            apr_uint64_t k = load64(&s->key);

            if (k == key) {
                touch(s, now);
                return s;
            }
            if (k == (key | KEY_BUSY)) {
                busy = 1;               /* someone is claiming it for us */
                break;
            }
            if (k == 0) {
                if (!target || expected != 0) {
                    target = s;
                    expected = 0;
                }
            }
            else if (!(k & KEY_BUSY) && (!target || expected != 0)
                     && idle(s, now)) {
                apr_uint64_t used = __atomic_load_n(&s->last_used,
                                                    __ATOMIC_RELAXED);
                if (!target || used < oldest) {
                    target = s;
                    expected = k;
                    oldest = used;
                }
            }
        }
        if (busy) {
            busy_wait(tries);
            continue;
        }
        if (!target) {
            return NULL;
        }
        if (cas64(&target->key, &expected, key | KEY_BUSY)) {
            slot_setup(target, key, owner, label, now);
            return target;
        }
        /* lost a race for that slot: look again */
    }
    return NULL;
}

apigw_cb_slot *apigw_cb_pool_claim(apigw_cb_table *t, apr_uint64_t key,
                                   apr_uint64_t owner, const char *label,
                                   apr_time_t now, apr_uint64_t idle_secs)
{
    apr_uint64_t n = t->nslots, start = key % n;
    apr_uint64_t sec = (apr_uint64_t)apr_time_sec(now);
    int tries;

    for (tries = 0; tries < BUSY_TRIES; tries++) {
        apigw_cb_slot *empty = NULL, *stalest = NULL, *target;
        apr_uint64_t stalest_key = 0, stalest_used = 0, expected, i;
        int busy = 0;

        for (i = 0; i < n; i++) {
            apigw_cb_slot *s = &t->slots[(start + i) % n];
            apr_uint64_t k = load64(&s->key), used;

            if (k == key) {
                touch(s, now);
                return s;
            }
            if (k == (key | KEY_BUSY)) {
                busy = 1;               /* someone is claiming it for us */
                break;
            }
            if (k == 0) {
                empty = s;              /* slots are never freed: the key */
                break;                  /* is not further on */
            }
            if (k & KEY_BUSY) {
                continue;               /* another key's, being set up */
            }
            used = __atomic_load_n(&s->last_used, __ATOMIC_RELAXED);
            if (!stalest || used < stalest_used) {
                stalest = s;
                stalest_key = k;
                stalest_used = used;
            }
        }
        if (busy) {
            busy_wait(tries);
            continue;
        }
        if (stalest && (empty == NULL || stalest_used + idle_secs < sec)) {
            target = stalest;
            expected = stalest_key;
        }
        else if (empty) {
            target = empty;
            expected = 0;
        }
        else {
            busy_wait(tries);         /* every slot is being set up */
            continue;
        }
        if (cas64(&target->key, &expected, key | KEY_BUSY)) {
            slot_setup(target, key, owner, label, now);
            return target;
        }
        /* lost a race for that slot: look again */
    }
    return NULL;
}

void apigw_cb_table_free_unowned(apigw_cb_table *t, const apr_uint64_t *owners,
                                 int n)
{
    apr_uint64_t i;
    int j;

    for (i = 0; i < t->nslots; i++) {
        apigw_cb_slot *s = &t->slots[i];

        s->pinned = 0;
        if (load64(&s->key) == 0) {
            continue;
        }
        for (j = 0; j < n && owners[j] != s->owner; j++) {
        }
        if (j == n) {
            __atomic_store_n(&s->key, 0, __ATOMIC_RELEASE);
        }
    }
}

int apigw_cb_slot_is(const apigw_cb_slot *s, apr_uint64_t key)
{
    return load64(&s->key) == key;
}

/* ---- the state machine ---- */

apr_uint64_t apigw_cb_slot_tick(apigw_cb_slot *s, const apigw_cb_timing *t,
                                apr_time_t now, apigw_cb_change *ch,
                                int *changed)
{
    apr_uint64_t w = load64(&s->word);

    *changed = 0;
    for (;;) {
        apigw_cb_view v = apigw_cb_view_of(w);
        apr_uint64_t nw;

        if (v.state != APIGW_CB_TRIPPED || now - v.since < t->fallback) {
            return w;
        }
        nw = apigw_cb_word(APIGW_CB_RECOVERING, v.epoch, now);
        if (cas64(&s->word, &w, nw)) {
            ch->from = APIGW_CB_TRIPPED;
            ch->to = APIGW_CB_RECOVERING;
            ch->at = now;
            *changed = 1;
            return nw;
        }
        /* w now holds what another caller wrote: look at it again */
    }
}

int apigw_cb_slot_claim_check(apigw_cb_slot *s, apr_interval_time_t check,
                              apr_time_t now)
{
    apr_uint64_t due = __atomic_load_n(&s->next_check, __ATOMIC_RELAXED);

    if (now < 0 || (apr_uint64_t)now < due) {
        return 0;
    }
    return cas64(&s->next_check, &due, (apr_uint64_t)(now + check));
}

int apigw_cb_slot_apply(apigw_cb_slot *s, apr_uint64_t seen, int cond,
                        const apigw_cb_timing *t, apr_time_t now,
                        apigw_cb_change *ch)
{
    apigw_cb_view v = apigw_cb_view_of(seen);
    apr_uint64_t nw, expected = seen;

    switch (v.state) {
    case APIGW_CB_STANDBY:
        if (!cond) {
            return 0;
        }
        nw = apigw_cb_word(APIGW_CB_TRIPPED, v.epoch + 1, now);
        break;
    case APIGW_CB_RECOVERING:
        if (cond) {
            nw = apigw_cb_word(APIGW_CB_TRIPPED, v.epoch + 1, now);
        }
        else if (now - v.since >= t->recovery) {
            nw = apigw_cb_word(APIGW_CB_STANDBY, v.epoch, now);
        }
        else {
            return 0;
        }
        break;
    default:
        return 0;
    }
    if (!cas64(&s->word, &expected, nw)) {
        return 0;
    }
    ch->from = v.state;
    ch->to = apigw_cb_view_of(nw).state;
    ch->at = now;
    if (ch->to == APIGW_CB_TRIPPED) {
        apigw_cb_window_reset(&s->window);
        __atomic_fetch_add(&s->trips, 1, __ATOMIC_RELAXED);
    }
    return 1;
}

double apigw_cb_admission(apr_uint64_t word, const apigw_cb_timing *t,
                          apr_time_t now)
{
    apigw_cb_view v = apigw_cb_view_of(word);
    double share;

    switch (v.state) {
    case APIGW_CB_STANDBY:
        return 1;
    case APIGW_CB_TRIPPED:
        return 0;
    default:
        if (t->recovery <= 0) {
            return 1;
        }
        share = (double)(now - v.since) / (double)t->recovery;
        return share < 0 ? 0 : share > 1 ? 1 : share;
    }
}

int apigw_cb_admit(apr_uint64_t word, const apigw_cb_timing *t,
                   apr_time_t now, double rnd)
{
    double share = apigw_cb_admission(word, t, now);

    return share >= 1 || (share > 0 && rnd < share);
}

int apigw_cb_slot_record(apigw_cb_slot *s, unsigned epoch, apr_time_t now,
                         const apigw_cb_sample *smp,
                         const apigw_cb_range *ranges, int nranges)
{
    apigw_cb_view v = apigw_cb_view_of(load64(&s->word));

    if (v.epoch != (epoch & EPOCH_MASK) || v.state == APIGW_CB_TRIPPED) {
        return 0;
    }
    return apigw_cb_window_record(&s->window, now, smp, ranges, nranges);
}
