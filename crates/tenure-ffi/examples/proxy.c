/*
 * proxy.c — a small "proxy" on Tenure's C API.
 *
 *   proxy POLICY_FILE < requests.jsonl
 *
 * Loads POLICY_FILE, then reads standard input line by line:
 *   - a request `{"identity": {...}, "resource": {...}}` prints one decision line:
 *       allow <version> <rule-id>[,<rule-id>...]
 *       deny <version> <rule-id>[,...]      (`-` when no rule applied: default deny)
 *       deny 0 error:<code> <message>       (a malformed request: errors deny)
 *   - `!reload` reads POLICY_FILE again and prints `reloaded <version>`, or, when the new
 *     text does not compile, `reload-failed <version> <first diagnostic>` (the old policy
 *     keeps serving).
 *
 * Build (from the workspace root, after `cargo build -p tenure-ffi`):
 *   cc -Icrates/tenure-ffi/include crates/tenure-ffi/examples/proxy.c \
 *      target/debug/libtenure_ffi.a -lpthread -ldl -lm -o proxy
 */
#define _POSIX_C_SOURCE 200809L /* getline */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tenure.h"

/* Reads a whole file into a malloc'd buffer; NULL on failure. */
static char *read_file(const char *path, size_t *len_out) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf != NULL && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    *len_out = len;
    return buf;
}

/* The calling thread's last error, first line only, in a malloc'd string. */
static char *last_error_line(void) {
    size_t len = tenure_last_error(NULL, 0);
    char *message = malloc(len + 1);
    if (message == NULL) {
        return NULL;
    }
    tenure_last_error(message, len + 1);
    char *newline = strchr(message, '\n');
    if (newline != NULL) {
        *newline = '\0';
    }
    return message;
}

static void print_decision(const tenure_decision *decision) {
    printf("%s %llu ", tenure_decision_is_allowed(decision) ? "allow" : "deny",
           (unsigned long long)tenure_decision_policy_version(decision));
    size_t count = tenure_decision_reason_count(decision);
    if (count == 0) {
        fputs("-", stdout);
    }
    for (size_t i = 0; i < count; i++) {
        const char *id;
        size_t id_len;
        if (tenure_decision_reason_id(decision, i, &id, &id_len) == TENURE_OK) {
            printf("%s%.*s", i > 0 ? "," : "", (int)id_len, id);
        }
    }
    fputs("\n", stdout);
}

static void decide(const tenure_engine *engine, const char *line, size_t len) {
    tenure_entity *identity = NULL, *resource = NULL;
    tenure_decision *decision = NULL;
    tenure_result rc = tenure_request_from_json(line, len, &identity, &resource);
    if (rc == TENURE_OK) {
        rc = tenure_authorize(engine, identity, resource, &decision);
    }
    if (rc == TENURE_OK) {
        print_decision(decision);
    } else {
        char *message = last_error_line();
        printf("deny 0 error:%u %s\n", rc, message != NULL ? message : "");
        free(message);
    }
    tenure_decision_free(decision);
    tenure_entity_free(identity);
    tenure_entity_free(resource);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s POLICY_FILE < requests.jsonl\n", argv[0]);
        return 2;
    }
    if (tenure_abi_version() != TENURE_ABI_VERSION) {
        fprintf(stderr, "libtenure_ffi ABI %u, header %u\n", tenure_abi_version(), TENURE_ABI_VERSION);
        return 2;
    }
    size_t policy_len;
    char *policy = read_file(argv[1], &policy_len);
    if (policy == NULL) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 1;
    }
    tenure_engine *engine = NULL;
    if (tenure_engine_new(policy, policy_len, &engine) != TENURE_OK) {
        char *message = last_error_line();
        fprintf(stderr, "policy does not compile: %s\n", message != NULL ? message : "");
        free(message);
        free(policy);
        return 1;
    }
    free(policy);

    char *line = NULL;
    size_t cap = 0;
    ssize_t read;
    while ((read = getline(&line, &cap, stdin)) != -1) {
        size_t len = (size_t)read;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
            len--;
        }
        if (len == 0) {
            continue;
        }
        if (len == 7 && memcmp(line, "!reload", 7) == 0) {
            policy = read_file(argv[1], &policy_len);
            if (policy == NULL) {
                printf("reload-failed %llu cannot read %s\n",
                       (unsigned long long)tenure_engine_version(engine), argv[1]);
            } else if (tenure_engine_reload(engine, policy, policy_len) == TENURE_OK) {
                printf("reloaded %llu\n", (unsigned long long)tenure_engine_version(engine));
            } else {
                char *message = last_error_line();
                printf("reload-failed %llu %s\n", (unsigned long long)tenure_engine_version(engine),
                       message != NULL ? message : "");
                free(message);
            }
            free(policy);
            fflush(stdout);
            continue;
        }
        decide(engine, line, len);
        fflush(stdout);
    }
    free(line);
    tenure_engine_free(engine);
    return 0;
}
