/*
 * threads.c — pthreads deciding on one shared engine while the main thread reloads it.
 *
 *   threads [DECISIONS_PER_THREAD] [RELOADS]
 *
 * Every decision must equal the decision of the policy whose version it names: odd
 * versions serve POLICY_A, even ones POLICY_B (checked against two reference engines
 * that are never reloaded). A bad reload in the middle must change nothing. Exits 0 and
 * prints `ok` when every check passed.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tenure.h"

static const char POLICY_A[] =
    "@id(\"dba\") role = DBA grants type in [postgres, mysql];\n"
    "@id(\"prod-freeze\") * denies tag:env = prod and type = mysql;\n";
static const char POLICY_B[] =
    "@id(\"dba-pg\") role = DBA grants type = postgres;\n"
    "@id(\"sre\") groups = sre grants tag:env in [prod, staging];\n"
    "@id(\"leavers\") status != active denies *;\n";
static const char BROKEN[] = "role = DBA grants type = ;";

#define IDENTITIES 3
#define RESOURCES 3
#define THREADS 4

static tenure_entity *identities[IDENTITIES];
static tenure_entity *resources[RESOURCES];
/* expected[policy][i][r]: allowed, reason count, first reason id. */
static struct {
    bool allowed;
    size_t reasons;
    char first[32];
} expected[2][IDENTITIES][RESOURCES];

static tenure_engine *shared;
static long decisions_per_thread = 20000;
static volatile int failed = 0;

#define CHECK(cond, ...)                                  \
    do {                                                  \
        if (!(cond)) {                                    \
            fprintf(stderr, "FAILED %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                 \
            fputc('\n', stderr);                          \
            failed = 1;                                   \
        }                                                 \
    } while (0)

#define S(text) text, strlen(text)

static void build_entities(void) {
    for (int i = 0; i < IDENTITIES; i++) {
        identities[i] = tenure_entity_new();
    }
    tenure_entity_set_string(identities[0], S("role"), S("DBA"));
    tenure_entity_set_string(identities[0], S("status"), S("active"));
    tenure_entity_set_string(identities[1], S("role"), S("DBA"));
    tenure_entity_add_to_set(identities[2], S("groups"), S("sre"));
    tenure_entity_add_to_set(identities[2], S("groups"), S("everyone"));
    tenure_entity_set_string(identities[2], S("status"), S("active"));
    tenure_entity_set_int(identities[2], S("clearance"), 3);
    tenure_entity_set_bool(identities[2], S("mfa"), true);

    const char *types[RESOURCES] = {"postgres", "mysql", "ssh"};
    const char *envs[RESOURCES] = {"prod", "prod", "staging"};
    for (int r = 0; r < RESOURCES; r++) {
        resources[r] = tenure_entity_new();
        tenure_entity_set_string(resources[r], S("type"), types[r], strlen(types[r]));
        tenure_entity_set_tag(resources[r], S("env"), envs[r], strlen(envs[r]));
    }
}

static void fill_expected(int which, const char *policy) {
    tenure_engine *reference = NULL;
    CHECK(tenure_engine_new(policy, strlen(policy), &reference) == TENURE_OK, "reference engine");
    for (int i = 0; i < IDENTITIES; i++) {
        for (int r = 0; r < RESOURCES; r++) {
            tenure_decision *d = NULL;
            CHECK(tenure_authorize(reference, identities[i], resources[r], &d) == TENURE_OK, "authorize");
            expected[which][i][r].allowed = tenure_decision_is_allowed(d);
            expected[which][i][r].reasons = tenure_decision_reason_count(d);
            const char *id;
            size_t len;
            if (tenure_decision_reason_id(d, 0, &id, &len) == TENURE_OK && len < 32) {
                memcpy(expected[which][i][r].first, id, len);
                expected[which][i][r].first[len] = '\0';
            }
            tenure_decision_free(d);
        }
    }
    tenure_engine_free(reference);
}

static void *decider(void *arg) {
    long seed = (long)(size_t)arg;
    uint64_t last_version = 0;
    for (long n = 0; n < decisions_per_thread && !failed; n++) {
        int i = (int)((seed + n) % IDENTITIES);
        int r = (int)((seed + n / IDENTITIES) % RESOURCES);
        if (n % 2 == 0) {
            tenure_decision *d = NULL;
            if (tenure_authorize(shared, identities[i], resources[r], &d) != TENURE_OK) {
                CHECK(0, "authorize failed");
                break;
            }
            uint64_t version = tenure_decision_policy_version(d);
            CHECK(version >= last_version, "version went back");
            last_version = version;
            int which = version % 2 == 1 ? 0 : 1;
            CHECK(tenure_decision_is_allowed(d) == expected[which][i][r].allowed,
                  "identity %d resource %d version %llu", i, r, (unsigned long long)version);
            CHECK(tenure_decision_reason_count(d) == expected[which][i][r].reasons, "reason count");
            const char *id;
            size_t len;
            if (tenure_decision_reason_count(d) > 0) {
                CHECK(tenure_decision_reason_id(d, 0, &id, &len) == TENURE_OK, "reason id");
                CHECK(len == strlen(expected[which][i][r].first) &&
                          memcmp(id, expected[which][i][r].first, len) == 0,
                      "first reason");
            }
            tenure_decision_free(d);
        } else {
            /* No version on the fast path: it must agree with one of the two policies. */
            bool allowed = tenure_is_allowed(shared, identities[i], resources[r]);
            CHECK(allowed == expected[0][i][r].allowed || allowed == expected[1][i][r].allowed,
                  "is_allowed agrees with neither policy");
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    long reloads = 2000;
    if (argc > 1) {
        decisions_per_thread = atol(argv[1]);
    }
    if (argc > 2) {
        reloads = atol(argv[2]);
    }
    build_entities();
    fill_expected(0, POLICY_A);
    fill_expected(1, POLICY_B);
    CHECK(tenure_engine_new(POLICY_A, strlen(POLICY_A), &shared) == TENURE_OK, "engine");
    if (failed) {
        return 1;
    }

    pthread_t threads[THREADS];
    for (long t = 0; t < THREADS; t++) {
        pthread_create(&threads[t], NULL, decider, (void *)(size_t)t);
    }
    for (long n = 0; n < reloads && !failed; n++) {
        if (n == reloads / 2) {
            uint64_t before = tenure_engine_version(shared);
            CHECK(tenure_engine_reload(shared, BROKEN, strlen(BROKEN)) == TENURE_ERROR_POLICY, "bad reload");
            CHECK(tenure_last_error(NULL, 0) > 0, "an error message");
            CHECK(tenure_engine_version(shared) == before, "a bad reload keeps the version");
        }
        const char *next = n % 2 == 0 ? POLICY_B : POLICY_A;
        CHECK(tenure_engine_reload(shared, next, strlen(next)) == TENURE_OK, "reload");
        CHECK(tenure_last_error(NULL, 0) == 0, "success clears the error");
        CHECK(tenure_engine_version(shared) == (uint64_t)n + 2, "version");
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
    }
    tenure_engine_free(shared);
    for (int i = 0; i < IDENTITIES; i++) {
        tenure_entity_free(identities[i]);
    }
    for (int r = 0; r < RESOURCES; r++) {
        tenure_entity_free(resources[r]);
    }
    if (failed) {
        return 1;
    }
    printf("ok %d threads x %ld decisions, %ld reloads\n", THREADS, decisions_per_thread, reloads);
    return 0;
}
