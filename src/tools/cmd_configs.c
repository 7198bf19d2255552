/*
 * cmd_configs.c - `samsa configs`: kafka-configs.sh for users' SCRAM credentials
 * (--entity-type users), over DescribeUserScramCredentials and AlterUserScramCredentials.
 *
 *   samsa configs --alter --entity-type users --entity-name alice \
 *                 --add-config 'SCRAM-SHA-256=[iterations=8192,password=alice-secret]'
 *   samsa configs --alter --entity-type users --entity-name alice --delete-config SCRAM-SHA-512
 *   samsa configs --describe --entity-type users [--entity-name alice]
 *
 * The password never leaves this process: as Kafka's tool does, the salted password is derived
 * here (PBKDF2 with a fresh random salt, core/scram.h) and only salt, iterations and salted
 * password are sent. librdkafka 2.0 has no API for these two requests, so they go through
 * client/kafka_conn.h, with the same -b/-X/-F settings (security.protocol, sasl.*, ssl.*).
 * Topic configs stay with `samsa topics --alter --config`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/kafka_conn.h"
#include "commands.h"
#include "core/scram.h"
#include "proto/proto.h"
#include "tools/tool.h"

#define CMD "configs"

typedef struct conf_s {
    sa_tools_conn_t conn;
    int alter, describe;
    char *entity_type;
    char *entity_name;
    char *add_config;
    char *delete_config;
} conf_t;

static const sa_cfg_opt_t opts[] = {
    SA_TOOLS_CONN_OPTS(conf_t, conn),
    {NULL, "alter", 0, SA_CFG_BOOL, offsetof(conf_t, alter), 0, 0, NULL, NULL,
     "change the credentials of --entity-name (--add-config, --delete-config)"},
    {NULL, "describe", 0, SA_CFG_BOOL, offsetof(conf_t, describe), 0, 0, NULL, NULL,
     "show the SCRAM mechanisms and iterations of --entity-name (all users without it)"},
    {NULL, "entity-type", 0, SA_CFG_STR, offsetof(conf_t, entity_type), 0, 0, NULL, "users",
     "the kind of entity: users (SCRAM credentials)"},
    {NULL, "entity-name", 0, SA_CFG_STR, offsetof(conf_t, entity_name), 0, 0, NULL, "NAME", "the user"},
    {NULL, "add-config", 0, SA_CFG_STR, offsetof(conf_t, add_config), 0, 0, NULL, "MECH=[...],...",
     "credentials to set: 'SCRAM-SHA-256=[iterations=8192,password=PW],SCRAM-SHA-512=[password=PW]' "
     "(iterations 4096-16384, default 4096)"},
    {NULL, "delete-config", 0, SA_CFG_STR, offsetof(conf_t, delete_config), 0, 0, NULL, "MECH,...",
     "credentials to remove: SCRAM-SHA-256, SCRAM-SHA-512"},
    {0}};

static const sa_cfg_cmd_t spec = {
    "configs",
    "samsa configs [-b HOST:PORT] --entity-type users (--describe [--entity-name U] | --alter --entity-name "
    "U "
    "[--add-config C] [--delete-config M])",
    "Describe and change users' SCRAM credentials with Apache Kafka's kafka-configs flags. The password is "
    "salted and hashed here (PBKDF2, random salt); only the result reaches the broker. Against a broker "
    "whose listeners all need SASL, create the first user with `samsa broker --add-scram` "
    "(docs/security.md).",
    opts,
    "examples:\n"
    "  samsa configs --alter --entity-type users --entity-name alice \\\n"
    "      --add-config "
    "'SCRAM-SHA-256=[iterations=8192,password=alice-secret],SCRAM-SHA-512=[password=alice-secret]'\n"
    "  samsa configs --describe --entity-type users --entity-name alice\n"
    "  samsa configs --alter --entity-type users --entity-name alice --delete-config SCRAM-SHA-512\n"
    "  samsa configs -b localhost:9094 -X security.protocol=SASL_SSL -X ssl.ca.location=ca.pem \\\n"
    "      -X sasl.mechanism=SCRAM-SHA-512 -X sasl.username=admin -X sasl.password=... --describe "
    "--entity-type users\n"
    "exit status: 0 done, 1 the cluster refused or was unreachable, 2 wrong input"};

static const char *const admin_defaults[] = {NULL};
static const sa_client_role_t admin_role = {"admin connection", SA_CLIENT_ADMIN, admin_defaults, NULL};

static int validate(const conf_t *c) {
    if (c->alter + c->describe != 1) {
        sa_cli_error(CMD, "give one of --alter or --describe");
        return -1;
    }
    if (!c->entity_type || strcmp(c->entity_type, "users")) {
        sa_cli_error(
            CMD,
            "--entity-type %s: samsa configs handles users' SCRAM credentials (--entity-type users); "
            "topic configs: samsa topics --alter --config",
            c->entity_type ? c->entity_type : "(missing)");
        return -1;
    }
    if (c->alter && (!c->entity_name || !*c->entity_name)) {
        sa_cli_error(CMD, "--alter needs --entity-name USER");
        return -1;
    }
    if (c->alter && !c->add_config && !c->delete_config) {
        sa_cli_error(CMD, "--alter needs --add-config or --delete-config");
        return -1;
    }
    if (c->describe && (c->add_config || c->delete_config)) {
        sa_cli_error(CMD, "--add-config and --delete-config go with --alter");
        return -1;
    }
    return 0;
}

static sa_str_t arena_str(sa_arena_t *a, const char *s) {
    size_t n = strlen(s);
    char *p = sa_arena_alloc(a, n + 1);
    memcpy(p, s, n + 1);
    return (sa_str_t){p, (int32_t)n};
}

static int do_describe(sa_kconn_t *kc, const conf_t *c, sa_arena_t *a) {
    sa_DescribeUserScramCredentialsRequest_t req;
    sa_DescribeUserScramCredentialsResponse_t resp;
    sa_DescribeUserScramCredentialsRequest_init(&req);
    sa_DescribeUserScramCredentialsRequest_UserName_t one;
    if (c->entity_name) {
        sa_DescribeUserScramCredentialsRequest_UserName_init(&one);
        one.Name = arena_str(a, c->entity_name);
        req.Users = &one;
        req.Users_count = 1;
    } else {
        req.Users_count = -1; /* every user */
    }
    char errstr[512];
    if (sa_kconn_request(kc, SA_API_DescribeUserScramCredentials, 0, &req, &resp, a, (int)c->conn.timeout_ms,
                         errstr, sizeof(errstr))) {
        sa_cli_error(CMD, "%s", errstr);
        return SA_EXIT_FAIL;
    }
    if (resp.ErrorCode) {
        sa_cli_error(CMD, "the broker refused: %s", sa_err2str((sa_err_t)resp.ErrorCode));
        return SA_EXIT_FAIL;
    }
    int rc = SA_EXIT_OK;
    for (int32_t i = 0; i < resp.Results_count; i++) {
        const sa_DescribeUserScramCredentialsResponse_DescribeUserScramCredentialsResult_t *r =
            &resp.Results[i];
        if (r->ErrorCode) {
            sa_cli_error(CMD, "user %.*s: %.*s", (int)r->User.len, r->User.ptr,
                         r->ErrorMessage.len > 0 ? (int)r->ErrorMessage.len : 0, r->ErrorMessage.ptr);
            rc = SA_EXIT_FAIL;
            continue;
        }
        printf("SCRAM credential configs for user-principal '%.*s' are ", (int)r->User.len, r->User.ptr);
        for (int32_t k = 0; k < r->CredentialInfos_count; k++) {
            const char *m = sa_scram_mech_name(r->CredentialInfos[k].Mechanism);
            printf("%s%s=iterations=%d", k ? ", " : "", m ? m : "UNKNOWN",
                   (int)r->CredentialInfos[k].Iterations);
        }
        printf("\n");
    }
    return rc;
}

static int do_alter(sa_kconn_t *kc, const conf_t *c, sa_arena_t *a) {
    sa_AlterUserScramCredentialsRequest_t req;
    sa_AlterUserScramCredentialsResponse_t resp;
    sa_AlterUserScramCredentialsRequest_init(&req);
    char errstr[512];
    int rc = SA_EXIT_USAGE;
    sa_str_t name = arena_str(a, c->entity_name);
    req.Upsertions = sa_arena_calloc(a, 2, sizeof(*req.Upsertions));
    req.Deletions = sa_arena_calloc(a, 2, sizeof(*req.Deletions));
    for (const char *p = c->add_config; p && *p;) {
        sa_scram_spec_t s;
        if (req.Upsertions_count == 2 || sa_scram_parse_spec(&p, &s, errstr, sizeof(errstr)) ||
            sa_scram_spec_derive(&s, errstr, sizeof(errstr))) {
            sa_cli_error(CMD, "--add-config: %s",
                         req.Upsertions_count == 2 ? "at most two mechanisms" : errstr);
            sa_scram_spec_wipe(&s);
            return rc;
        }
        sa_AlterUserScramCredentialsRequest_ScramCredentialUpsertion_t *u =
            &req.Upsertions[req.Upsertions_count++];
        sa_AlterUserScramCredentialsRequest_ScramCredentialUpsertion_init(u);
        u->Name = name;
        u->Mechanism = (int8_t)s.mech;
        u->Iterations = s.iterations;
        uint8_t *salt = sa_arena_alloc(a, s.salt_len), *salted = sa_arena_alloc(a, s.salted_len);
        memcpy(salt, s.salt, s.salt_len);
        memcpy(salted, s.salted, s.salted_len);
        u->Salt = (sa_bytes_t){salt, (int32_t)s.salt_len};
        u->SaltedPassword = (sa_bytes_t){salted, (int32_t)s.salted_len};
        sa_scram_spec_wipe(&s);
    }
    if (c->delete_config) {
        char *list = strdup(c->delete_config), *save = NULL;
        for (char *m = strtok_r(list, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
            sa_scram_mech_t mech = sa_scram_mech_by_name(m);
            if (!mech || req.Deletions_count == 2) {
                sa_cli_error(CMD, "--delete-config: \"%s\" is not SCRAM-SHA-256 or SCRAM-SHA-512", m);
                free(list);
                return rc;
            }
            sa_AlterUserScramCredentialsRequest_ScramCredentialDeletion_t *d =
                &req.Deletions[req.Deletions_count++];
            sa_AlterUserScramCredentialsRequest_ScramCredentialDeletion_init(d);
            d->Name = name;
            d->Mechanism = (int8_t)mech;
        }
        free(list);
    }
    rc = SA_EXIT_FAIL;
    if (sa_kconn_request(kc, SA_API_AlterUserScramCredentials, 0, &req, &resp, a, (int)c->conn.timeout_ms,
                         errstr, sizeof(errstr))) {
        sa_cli_error(CMD, "%s", errstr);
        return rc;
    }
    rc = SA_EXIT_OK;
    for (int32_t i = 0; i < resp.Results_count; i++) {
        const sa_AlterUserScramCredentialsResponse_AlterUserScramCredentialsResult_t *r = &resp.Results[i];
        if (!r->ErrorCode) continue;
        sa_cli_error(CMD, "user %.*s: %s: %.*s", (int)r->User.len, r->User.ptr,
                     sa_err2str((sa_err_t)r->ErrorCode),
                     r->ErrorMessage.len > 0 ? (int)r->ErrorMessage.len : 0, r->ErrorMessage.ptr);
        rc = SA_EXIT_FAIL;
    }
    if (rc == SA_EXIT_OK) printf("Completed updating config for user %s.\n", c->entity_name);
    return rc;
}

static int configs_main(int argc, char **argv) {
    conf_t c = {0};
    sa_kconn_t *kc = NULL;
    sa_arena_t arena;
    sa_arena_init(&arena, 0);
    int first, rc = sa_cli_parse(&spec, &c, argc, argv, &first);
    if (rc >= 0) goto out;
    rc = SA_EXIT_USAGE;
    if (first < argc) {
        sa_cli_error(CMD, "unexpected argument \"%s\"", argv[first]);
        goto out;
    }
    if ((rc = sa_tools_setup(CMD, &c.conn, &admin_role, 1)) >= 0) goto out;
    rc = SA_EXIT_USAGE;
    if (validate(&c)) goto out;
    rc = SA_EXIT_FAIL;
    char errstr[512];
    const char *bootstrap = sa_client_bootstrap(&c.conn.client);
    sa_err_t err = sa_kconn_open(&c.conn.client, NULL, (int)c.conn.timeout_ms, &kc, errstr, sizeof(errstr));
    if (err) {
        char hint[600] = "";
        if (err == SA_ERR_IO && strstr(errstr, "cannot connect"))
            sa_client_start_hint(bootstrap, hint, sizeof(hint));
        sa_cli_error(CMD, "%s%s%s", errstr, *hint ? "; " : "", hint);
        rc = err == SA_ERR_INVALID_ARG ? SA_EXIT_USAGE : SA_EXIT_FAIL;
        goto out;
    }
    rc = c.describe ? do_describe(kc, &c, &arena) : do_alter(kc, &c, &arena);
out:
    sa_kconn_close(kc);
    sa_arena_free(&arena);
    sa_client_opts_free(&c.conn.client);
    sa_cfg_free(opts, &c);
    return rc;
}

const sa_command_t sa_cmd_configs = {
    "configs", "describe and change users' SCRAM credentials (kafka-configs)", configs_main, &spec};
