/* The runtime route table of one environment in one child: what requests
 * match runtime routes against, and how it changes under them.
 *
 * Two sides. The builder (one thread of the child) owns every route as
 * its store row and applies changes: upsert and remove by id. Routes are
 * grouped in shards by their path's leading static text (up to four
 * segments, hashed: "/v1/users/{id}" goes with "v1/users"); a change
 * rebuilds only its shard (compiling that shard's routes again, into a
 * fresh pool) and publishes a new table: an immutable array of shard
 * pointers, the unchanged ones shared with the previous table. Writes
 * that arrive together are published together (apigw_rt_table_publish
 * after any number of changes).
 *
 * Requests (any thread) acquire the current table without a lock: a
 * slot's reference count is raised and the slot checked to be still
 * current; they match against it and release it when they end. A table
 * and the shards only it held are freed by the builder
 * (apigw_rt_table_sweep) once no request holds it. Requests in flight
 * finish on the table they started with.
 *
 * Pure: APR and the route table (apigw_route.c); what a route compiles
 * into is the caller's (a compile callback). */
#ifndef APIGW_RT_TABLE_H
#define APIGW_RT_TABLE_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "apigw_route.h"
#include "apigw_route_record.h"

typedef struct apigw_rt_table apigw_rt_table;
typedef struct apigw_rt_set apigw_rt_set;

/* Compiles rec into what a match hands back (*data, from p, which lives
 * as long as some table holds the route). scratch is for what the compile
 * needs only while it runs: the set clears it after each call, so a
 * rebuild of many routes reuses one block of memory for them. Returns
 * NULL, or a problem and *field (the route is then left out of the table,
 * and reported through the report callback). */
typedef const char *apigw_rt_compile_fn(void *ctx, apr_pool_t *p,
                                        apr_pool_t *scratch,
                                        const apigw_route_record *rec,
                                        void **data, const char **field);

/* Compiling or reading a route allocates a few kB in many small pieces:
 * for thousands of routes, pools would take their memory one 8 kB node
 * at a time, each new page a page fault, and on a virtual machine a
 * fault costs about 10 us, most of a large build's time. So before one,
 * apigw_rt_prefault() gives alloc about bytes of nodes (64 kB each)
 * faulted in with one call each (madvise MADV_POPULATE_WRITE, Linux
 * 5.14), kept free until the pools take them; then alloc keeps at most
 * max_free (0: no limit) of what is freed later. Elsewhere, or when the
 * kernel refuses, the pages fault in as they are used. Only for builds
 * of APIGW_RT_PREFAULT_MIN routes or more. */
#define APIGW_RT_PREFAULT_MIN 256
void apigw_rt_prefault(apr_allocator_t *alloc, apr_size_t bytes,
                       apr_size_t max_free);

/* Told once per route that cannot be served, with the problem. */
typedef void apigw_rt_report_fn(void *ctx, const apigw_route_record *rec,
                                const char *field, const char *problem);

/* Slots of published tables per set: the current one and those still
 * held by requests. A builder that finds none free waits to publish. */
#define APIGW_RT_SLOTS 64

/* A builder's set of routes (one environment), with its own pools made
 * from an allocator of its own (parent is only used to find where the
 * set is destroyed: the set is destroyed with parent). Builder-side
 * calls must come from one thread at a time. */
apigw_rt_set *apigw_rt_set_make(apr_pool_t *parent, apigw_rt_compile_fn *fn,
                                apigw_rt_report_fn *report, void *ctx);

/* Builder side. A route with the same id is replaced; rec is copied. A
 * disabled route is kept out of the table (as if removed). */
void apigw_rt_set_upsert(apigw_rt_set *set, const apigw_route_record *rec);
void apigw_rt_set_remove(apigw_rt_set *set, const char *id);

/* Full reload: every route not upserted since apigw_rt_set_mark is
 * removed by apigw_rt_set_drop_unmarked. */
void apigw_rt_set_mark(apigw_rt_set *set);
void apigw_rt_set_drop_unmarked(apigw_rt_set *set);

/* Rebuilds the shards changed since the last publish and makes them
 * current. 1 when published (or nothing to publish), 0 when no slot was
 * free (try again later: the changes stay pending). */
int apigw_rt_set_publish(apigw_rt_set *set);

/* Frees tables no request holds any more, and the shards only they held.
 * Returns how many tables are still held (current one included). */
int apigw_rt_set_sweep(apigw_rt_set *set);

/* Routes in the set (enabled or not) and routes served by the current
 * table. */
int apigw_rt_set_count(const apigw_rt_set *set);
int apigw_rt_set_served(const apigw_rt_set *set);

/* Every route in the set, as records (from p), in no order. */
apr_array_header_t *apigw_rt_set_records(const apigw_rt_set *set,
                                         apr_pool_t *p);

/* Request side (any thread): the current table, held until
 * apigw_rt_table_release; NULL when nothing was published yet. */
apigw_rt_table *apigw_rt_table_acquire(apigw_rt_set *set);
void apigw_rt_table_release(apigw_rt_table *t);

/* Request side, on a table held (apigw_rt_table_acquire): calls fn with
 * what each route the table serves compiled into, shard by shard, in no
 * order; stops at the first non-zero return of fn and returns it (else
 * 0). */
typedef int apigw_rt_table_each_fn(void *ctx, void *data);
int apigw_rt_table_each(const apigw_rt_table *t, apigw_rt_table_each_fn *fn,
                        void *ctx);

/* Matches as apigw_route_match_path does, over the table's shards: the
 * shard of the path's first four segments, then three, two, one, then
 * the shard of routes that start with a {variable}; the first FOUND wins,
 * else NO_METHOD with the union of the Allow lists. */
apigw_route_status apigw_rt_table_match(const apigw_rt_table *t,
                                        const char *path, const char *method,
                                        apr_pool_t *p, apigw_route_match *m);

#endif
