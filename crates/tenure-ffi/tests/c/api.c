/*
 * api.c — the conventions of the C API, checked from C: NULL and bad arguments, outputs
 * written only on success, `tenure_last_error`, `_free(NULL)`, several sources, the
 * directory fed by journal records, subjects and claims. Exits 0 and prints `ok` when
 * every check passed.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tenure.h"

static int failed = 0;

#define CHECK(cond)                                                    \
    do {                                                               \
        if (!(cond)) {                                                 \
            fprintf(stderr, "FAILED %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            failed = 1;                                                \
        }                                                              \
    } while (0)

#define S(text) text, strlen(text)

static const char POLICY[] =
    "@id(\"dba\") role = DBA grants type = postgres;\n"
    "@id(\"leavers\") status != active denies *;\n";

static void conventions(void) {
    tenure_engine *engine = (tenure_engine *)0x1; /* must stay untouched on error */
    CHECK(tenure_engine_new(NULL, 3, &engine) == TENURE_ERROR_NULL_ARGUMENT);
    CHECK(engine == (tenure_engine *)0x1);
    CHECK(tenure_last_error(NULL, 0) > 0);
    CHECK(tenure_engine_new(S(POLICY), NULL) == TENURE_ERROR_NULL_ARGUMENT);
    CHECK(tenure_engine_new("\xff\xfe", 2, &engine) == TENURE_ERROR_INVALID_UTF8);
    CHECK(engine == (tenure_engine *)0x1);

    /* A policy error names every diagnostic with its line and column. */
    const char bad[] = "role = DBA grants type = postgres;\nrole = grants *;\n";
    CHECK(tenure_engine_new(S(bad), &engine) == TENURE_ERROR_POLICY);
    size_t len = tenure_last_error(NULL, 0);
    char *message = malloc(len + 1);
    CHECK(tenure_last_error(message, len + 1) == len);
    CHECK(strlen(message) == len);
    CHECK(strstr(message, "<policy>:2:") != NULL);
    /* Truncated to fit, NUL-terminated, full length returned; reading changes nothing. */
    char small[8];
    memset(small, 'x', sizeof small);
    CHECK(tenure_last_error(small, sizeof small) == len);
    CHECK(small[7] == '\0' && strlen(small) == 7 && memcmp(small, message, 7) == 0);
    CHECK(tenure_last_error(NULL, 0) == len);
    free(message);

    CHECK(tenure_engine_new(S(POLICY), &engine) == TENURE_OK);
    CHECK(tenure_last_error(NULL, 0) == 0);
    char empty[4] = "abc";
    CHECK(tenure_last_error(empty, sizeof empty) == 0 && empty[0] == '\0');
    CHECK(tenure_engine_version(engine) == 1);
    CHECK(tenure_engine_version(NULL) == 0);
    CHECK(tenure_abi_version() == TENURE_ABI_VERSION);

    tenure_entity *dba = tenure_entity_new();
    tenure_entity *db = NULL;
    CHECK(tenure_entity_set_string(dba, S("role"), S("DBA")) == TENURE_OK);
    CHECK(tenure_entity_set_string(dba, S("status"), S("active")) == TENURE_OK);
    CHECK(tenure_entity_set_string(dba, S("tags"), S("x")) == TENURE_ERROR_INVALID_ARGUMENT);
    CHECK(tenure_entity_set_string(NULL, S("role"), S("DBA")) == TENURE_ERROR_NULL_ARGUMENT);
    CHECK(tenure_entity_add_to_set(dba, S("role"), S("x")) == TENURE_ERROR_NOT_A_SET);
    CHECK(tenure_entity_from_json(S("{\"type\": \"postgres\", \"type\": \"mysql\"}"), &db) == TENURE_ERROR_INVALID_JSON);
    CHECK(db == NULL);
    CHECK(tenure_entity_from_json(S("{\"type\": \"postgres\", \"tags\": {\"env\": \"prod\"}}"), &db) == TENURE_OK);

    /* Every error path denies. */
    CHECK(tenure_is_allowed(engine, dba, db));
    CHECK(!tenure_is_allowed(NULL, dba, db));
    CHECK(!tenure_is_allowed(engine, NULL, db));
    CHECK(!tenure_is_allowed(engine, dba, NULL));
    tenure_decision *decision = NULL;
    CHECK(tenure_authorize(engine, dba, NULL, &decision) == TENURE_ERROR_NULL_ARGUMENT);
    CHECK(decision == NULL);
    CHECK(!tenure_decision_is_allowed(NULL));

    CHECK(tenure_authorize(engine, dba, db, &decision) == TENURE_OK);
    CHECK(tenure_decision_is_allowed(decision));
    CHECK(tenure_decision_decided_by(decision) == TENURE_DECIDED_BY_GRANT);
    CHECK(tenure_decision_policy_version(decision) == 1);
    CHECK(tenure_decision_reason_count(decision) == 1);
    const char *id = "untouched";
    size_t id_len = 99;
    CHECK(tenure_decision_reason_id(decision, 1, &id, &id_len) == TENURE_ERROR_OUT_OF_RANGE);
    CHECK(id_len == 99);
    CHECK(tenure_decision_reason_id(decision, 0, &id, &id_len) == TENURE_OK);
    CHECK(id_len == 3 && memcmp(id, "dba", 3) == 0);

    /* A bad reload keeps the serving policy; the old decision keeps its strings. */
    CHECK(tenure_engine_reload(engine, S("role = DBA grants")) == TENURE_ERROR_POLICY);
    CHECK(tenure_engine_version(engine) == 1);
    CHECK(tenure_is_allowed(engine, dba, db));
    tenure_source sources[2] = {
        {S("base.tenure"), S("role = DBA grants type = mysql;")},
        {S("extra.tenure"), S("@id(\"x\") role = SRE grants *;")},
    };
    CHECK(tenure_engine_reload_sources(engine, sources, 2) == TENURE_OK);
    CHECK(tenure_engine_version(engine) == 2);
    CHECK(!tenure_is_allowed(engine, dba, db));
    CHECK(id_len == 3 && memcmp(id, "dba", 3) == 0);
    tenure_decision_free(decision);

    sources[1].text = "role = grants";
    sources[1].text_len = strlen("role = grants");
    CHECK(tenure_engine_reload_sources(engine, sources, 2) == TENURE_ERROR_POLICY);
    len = tenure_last_error(NULL, 0);
    message = malloc(len + 1);
    tenure_last_error(message, len + 1);
    CHECK(strstr(message, "extra.tenure:1:") != NULL);
    free(message);
    CHECK(tenure_engine_version(engine) == 2);

    tenure_engine_free(engine);
    tenure_entity_free(dba);
    tenure_entity_free(db);
    CHECK(tenure_engine_version(NULL) == 0 && tenure_last_error(NULL, 0) > 0);
    tenure_engine_free(NULL); /* a no-op, and a call that succeeded: the error is cleared */
    CHECK(tenure_last_error(NULL, 0) == 0);
    tenure_entity_free(NULL);
    tenure_decision_free(NULL);
}

static void directory(void) {
    tenure_engine *engine = NULL;
    CHECK(tenure_engine_new(S(POLICY), &engine) == TENURE_OK);
    tenure_entity *db = tenure_entity_new();
    tenure_entity_set_string(db, S("type"), S("postgres"));

    tenure_decision *decision = NULL;
    CHECK(tenure_authorize_subject(engine, TENURE_SUBJECT_ID, S("u1"), db, &decision) == TENURE_OK);
    CHECK(!tenure_decision_is_allowed(decision));
    CHECK(tenure_decision_decided_by(decision) == TENURE_DECIDED_BY_UNKNOWN_SUBJECT);
    tenure_decision_free(decision);
    CHECK(tenure_authorize_subject(engine, 42, S("u1"), db, &decision) == TENURE_ERROR_INVALID_ARGUMENT);

    const char *join =
        "{\"seq\":1,\"at\":\"2026-03-01T09:00:00Z\",\"source\":\"scim\",\"event\":\"join\",\"identity\":\"u1\","
        "\"resource\":null,\"change\":{\"event\":\"join\",\"identity\":{\"id\":\"u1\",\"external_id\":\"00u1\","
        "\"email\":\"pam@example.com\",\"role\":\"DBA\",\"status\":\"active\"}},\"gained\":[],\"lost\":[],"
        "\"policy\":null,\"mapping_hash\":null}\n";
    const char *leave =
        "{\"seq\":2,\"at\":\"2026-03-31T17:00:00Z\",\"source\":\"schedule\",\"event\":\"leave\",\"identity\":\"u1\","
        "\"resource\":null,\"change\":{\"event\":\"leave\",\"id\":\"u1\"},\"gained\":[],\"lost\":[],"
        "\"policy\":null,\"mapping_hash\":null}\n";
    uint64_t seq = 77;
    CHECK(tenure_engine_apply_journal(engine, S(leave), &seq) == TENURE_ERROR_JOURNAL_GAP);
    CHECK(seq == 77);
    CHECK(tenure_engine_apply_journal(engine, S(join), &seq) == TENURE_OK);
    CHECK(seq == 1 && tenure_engine_journal_seq(engine) == 1);

    tenure_entity *claims = NULL;
    CHECK(tenure_entity_from_claims(S("{\"sub\": \"00u1\", \"exp\": 1775000000}"), NULL, 0, &claims) == TENURE_OK);
    CHECK(tenure_authorize_claims(engine, claims, db, &decision) == TENURE_OK);
    CHECK(tenure_decision_is_allowed(decision));
    tenure_decision_free(decision);
    CHECK(tenure_authorize_subject(engine, TENURE_SUBJECT_EMAIL, S("PAM@example.com"), db, &decision) == TENURE_OK);
    CHECK(tenure_decision_is_allowed(decision));
    tenure_decision_free(decision);

    CHECK(tenure_engine_apply_journal(engine, S(leave), NULL) == TENURE_OK);
    CHECK(tenure_engine_journal_seq(engine) == 2);
    CHECK(tenure_authorize_claims(engine, claims, db, &decision) == TENURE_OK);
    CHECK(!tenure_decision_is_allowed(decision));
    CHECK(tenure_decision_decided_by(decision) == TENURE_DECIDED_BY_DENY);
    tenure_decision_free(decision);

    tenure_entity *bad = NULL;
    CHECK(tenure_entity_from_claims(S("{\"sub\": 1.5}"), NULL, 0, &bad) == TENURE_ERROR_CLAIMS);
    CHECK(tenure_entity_from_claims(S("{}"), S("[groups]\n"), &bad) == TENURE_ERROR_CLAIMS);
    CHECK(bad == NULL);

    CHECK(tenure_engine_load_directory(engine, S("{\"id\": \"u2\", \"role\": \"DBA\", \"status\": \"active\"}\n"), 5) == TENURE_OK);
    CHECK(tenure_engine_journal_seq(engine) == 5);
    CHECK(tenure_engine_load_directory(engine, S("{\"role\": \"DBA\"}\n"), 6) == TENURE_ERROR_DIRECTORY);
    CHECK(tenure_engine_journal_seq(engine) == 5);
    CHECK(tenure_authorize_subject(engine, TENURE_SUBJECT_ID, S("u2"), db, &decision) == TENURE_OK);
    CHECK(tenure_decision_is_allowed(decision));
    tenure_decision_free(decision);

    tenure_entity_free(claims);
    tenure_entity_free(db);
    tenure_engine_free(engine);
}

int main(void) {
    conventions();
    directory();
    if (failed) {
        return 1;
    }
    printf("ok\n");
    return 0;
}
