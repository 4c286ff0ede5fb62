/* The run config: parsing (nested, every type, absent keys untouched), the JSON round trip on
 * random configs, the key list, the embedded assets, and every error message. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "t2g/assets.h"
#include "t2g/config.h"

#define MAX_EXACT 9007199254740991ull /* 2^53 - 1 */

static t2g_status parse_text(t2g_config *c, const char *json, t2g_error *err) {
    return t2g_config_parse(c, json, strlen(json), "run.json", err);
}

/* The same settings, field by field (doubles bit for bit). Written out here, apart from the
 * library's key table, so that a field the table forgot shows up as a difference. */
static bool same_double(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }
static bool same_config(const t2g_config *a, const t2g_config *b, char *what, size_t size) {
#define SAME_STR(f)                                                                                                    \
    if (strcmp(a->f, b->f) != 0) return snprintf(what, size, "%s", #f), false;
#define SAME_INT(f)                                                                                                    \
    if (a->f != b->f) return snprintf(what, size, "%s", #f), false;
#define SAME_DBL(f)                                                                                                    \
    if (!same_double(a->f, b->f)) return snprintf(what, size, "%s (%.17g vs %.17g)", #f, a->f, b->f), false;
    SAME_STR(name) SAME_INT(seed) SAME_STR(device)
    SAME_INT(model.vocab) SAME_INT(model.context) SAME_INT(model.layers) SAME_INT(model.heads) SAME_INT(model.width)
    SAME_STR(data.task) SAME_INT(data.examples) SAME_STR(data.path) SAME_INT(data.format) SAME_INT(data.seed)
    SAME_DBL(optim.lr) SAME_DBL(optim.beta1) SAME_DBL(optim.beta2) SAME_DBL(optim.epsilon)
    SAME_DBL(optim.weight_decay) SAME_DBL(optim.grad_clip)
    SAME_INT(schedule.kind) SAME_INT(schedule.warmup_steps) SAME_DBL(schedule.min_lr_fraction)
    SAME_INT(batch_size) SAME_INT(micro_batch) SAME_INT(steps) SAME_INT(log_every) SAME_INT(on_nonfinite) SAME_INT(logit_rows)
    SAME_INT(eval.every) SAME_INT(eval.examples) SAME_INT(eval.samples) SAME_INT(eval.max_new_tokens)
    SAME_INT(checkpoint.every)
#undef SAME_STR
#undef SAME_INT
#undef SAME_DBL
    return true;
}

static void check_same(check_ctx *ctx, const t2g_config *a, const t2g_config *b, const char *label) {
    char what[160] = "";
    bool same = same_config(a, b, what, sizeof what);
    check_true(ctx, same, "%s%s%s", label, same ? "" : ": differs in ", what);
}

/* ---- random configs within every key's range ---- */

static uint32_t random_between(check_ctx *ctx, uint32_t lo, uint32_t hi) {
    return lo + (uint32_t)(check_random_u64(ctx) % ((uint64_t)hi - lo + 1));
}

static void random_string(check_ctx *ctx, char *out, size_t size, bool dir_name) {
    static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.";
    size_t len = check_random_below(ctx, (uint32_t)size); /* 0 .. size - 1 */
    if (dir_name && len == 0) len = 1;
    for (size_t i = 0; i < len; i++) {
        if (dir_name) {
            out[i] = safe[check_random_below(ctx, i == 0 ? sizeof safe - 2 : sizeof safe - 1)];
        } else {
            /* any byte but NUL: quotes, backslashes, control characters, bytes >= 0x80 */
            out[i] = (char)(1 + check_random_below(ctx, 255));
        }
    }
    out[len] = '\0';
}

/* A double that is hard to print: a random mantissa at a random decimal scale. */
static double random_double(check_ctx *ctx, double hi) {
    switch (check_random_below(ctx, 6)) {
    case 0: return 0.0;
    case 1: return hi < 1 ? 0.3 * hi : 0.1 + 0.2; /* 0.30000000000000004 */
    case 2: return 3e-4;
    default: return check_uniform(ctx, 0, 1) * hi * pow(10.0, -(double)check_random_below(ctx, 9));
    }
}

static t2g_config random_config(check_ctx *ctx) {
    t2g_config c = t2g_config_defaults();
    random_string(ctx, c.name, sizeof c.name, true);
    uint32_t pick = check_random_below(ctx, 4);
    c.seed = pick == 0 ? MAX_EXACT : pick == 1 ? 0 : check_random_u64(ctx) >> 11;
    random_string(ctx, c.device, sizeof c.device, false);
    c.model.vocab = random_between(ctx, 1, 1u << 24);
    c.model.context = random_between(ctx, 2, 1u << 20);
    c.model.layers = random_between(ctx, 1, 1024);
    c.model.heads = random_between(ctx, 1, 65536);
    c.model.width = random_between(ctx, 1, 65536);
    random_string(ctx, c.data.task, sizeof c.data.task, false);
    c.data.examples = random_between(ctx, 1, UINT32_MAX);
    random_string(ctx, c.data.path, sizeof c.data.path, false);
    c.data.format = (t2g_data_format)check_random_below(ctx, 2);
    c.data.seed = check_random_u64(ctx) >> 11;
    c.optim.lr = random_double(ctx, 10);
    c.optim.beta1 = random_double(ctx, 0.999999);
    c.optim.beta2 = random_double(ctx, 0.999999);
    c.optim.epsilon = pow(10.0, -check_uniform(ctx, 0, 12));
    c.optim.weight_decay = random_double(ctx, 10);
    c.optim.grad_clip = random_double(ctx, 1e6);
    c.schedule.kind = (t2g_schedule_kind)check_random_below(ctx, 2);
    c.schedule.warmup_steps = random_between(ctx, 0, UINT32_MAX);
    c.schedule.min_lr_fraction = random_double(ctx, 1);
    c.batch_size = random_between(ctx, 1, 1u << 20);
    c.micro_batch = random_between(ctx, 1, 1u << 20);
    c.steps = random_between(ctx, 1, UINT32_MAX);
    c.log_every = random_between(ctx, 1, UINT32_MAX);
    c.on_nonfinite = (t2g_on_nonfinite)check_random_below(ctx, 2);
    c.logit_rows = 64 * random_between(ctx, 0, 16384);
    c.eval.every = random_between(ctx, 0, UINT32_MAX);
    c.eval.examples = random_between(ctx, 0, UINT32_MAX);
    c.eval.samples = random_between(ctx, 0, UINT32_MAX);
    c.eval.max_new_tokens = random_between(ctx, 1, UINT32_MAX);
    c.checkpoint.every = random_between(ctx, 0, UINT32_MAX);
    return c;
}

/* The item at a dotted path of a JSON tree, or NULL. */
static const cJSON *json_at(const cJSON *root, const char *path) {
    char segment[128];
    const cJSON *item = root;
    while (item && *path) {
        size_t n = strcspn(path, ".");
        snprintf(segment, sizeof segment, "%.*s", (int)n, path);
        item = cJSON_GetObjectItemCaseSensitive(item, segment);
        path += n + (path[n] == '.');
    }
    return item;
}

static size_t count_leaves(const cJSON *item) {
    if (!cJSON_IsObject(item)) return 1;
    size_t n = 0;
    for (const cJSON *child = item->child; child; child = child->next) n += count_leaves(child);
    return n;
}

/* Every leaf of an asset's JSON differs from the default, except name and data.task. */
static void check_leaves_differ(check_ctx *ctx, const char *asset, const cJSON *item, const cJSON *defaults,
                                const char *prefix) {
    for (const cJSON *child = item->child; child; child = child->next) {
        char path[128];
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", child->string);
        if (cJSON_IsObject(child)) {
            check_leaves_differ(ctx, asset, child, defaults, path);
            continue;
        }
        if (strcmp(path, "name") == 0 || strcmp(path, "data.task") == 0) continue;
        const cJSON *fallback = json_at(defaults, path);
        bool same = fallback && cJSON_IsNumber(child) && cJSON_IsNumber(fallback)
                        ? child->valuedouble == fallback->valuedouble
                        : fallback && cJSON_Compare(child, fallback, true);
        check_true(ctx, !same, "%s: %s differs from the default", asset, path);
    }
}

T2G_HOST_CHECK(config_parse) {
    check_case_begin(ctx);
    t2g_error err = {0};

    /* the defaults */
    t2g_config d = t2g_config_defaults();
    check_true(ctx,
               strcmp(d.name, "run") == 0 && d.seed == 1 && d.device[0] == '\0' && d.model.vocab == 259 &&
                   d.model.context == 64 && d.model.layers == 2 && d.model.heads == 4 && d.model.width == 64,
               "defaults: name, seed, device, model");
    check_true(ctx,
               strcmp(d.data.task, "arith") == 0 && d.data.examples == 20000 && d.data.path[0] == '\0' &&
                   d.data.format == T2G_DATA_SFT && d.data.seed == 1,
               "defaults: data");
    check_true(ctx,
               d.optim.lr == 1e-3 && d.optim.beta1 == 0.9 && d.optim.beta2 == 0.95 && d.optim.epsilon == 1e-8 &&
                   d.optim.weight_decay == 0.1 && d.optim.grad_clip == 1.0,
               "defaults: optim");
    check_true(ctx,
               d.schedule.kind == T2G_SCHEDULE_COSINE && d.schedule.warmup_steps == 20 &&
                   d.schedule.min_lr_fraction == 0.1,
               "defaults: schedule");
    check_true(ctx, d.batch_size == 32 && d.micro_batch == 32 && d.steps == 300 && d.log_every == 10, "defaults: train");
    check_true(ctx,
               d.eval.every == 100 && d.eval.examples == 100 && d.eval.samples == 5 && d.eval.max_new_tokens == 16 &&
                   d.checkpoint.every == 0,
               "defaults: eval, checkpoint");
    check_true(ctx, t2g_config_validate(&d, &err) == T2G_OK, "the defaults validate (%s)", err.message);

    /* nested keys of every type; the absent ones keep their values */
    t2g_config c = t2g_config_defaults();
    const char *json = "{\n"
                       "  \"name\": \"my-run_2\",\n"
                       "  \"seed\": 9007199254740991,\n"
                       "  \"optim\": {\"lr\": 3e-4, \"beta2\": 0.999},\n"
                       "  \"model\": {\"layers\": 6},\n"
                       "  \"train\": {\"batch_size\": 16, \"micro_batch\": 8},\n"
                       "  \"data\": {\"task\": \"\", \"path\": \"data/x.jsonl\", \"seed\": 0},\n"
                       "  \"eval\": {}\n"
                       "}\n";
    check_true(ctx, parse_text(&c, json, &err) == T2G_OK, "a nested file parses (%s)", err.message);
    t2g_config want = t2g_config_defaults();
    strcpy(want.name, "my-run_2");
    want.seed = MAX_EXACT;
    want.optim.lr = 3e-4;
    want.optim.beta2 = 0.999;
    want.model.layers = 6;
    want.batch_size = 16;
    want.micro_batch = 8;
    strcpy(want.data.task, "");
    strcpy(want.data.path, "data/x.jsonl");
    want.data.seed = 0;
    check_same(ctx, &c, &want, "string, integer, 64-bit integer and number keys set; the others untouched");
    check_true(ctx, c.optim.lr == 3e-4 && c.seed == MAX_EXACT, "3e-4 and 2^53 - 1 exactly");
    check_true(ctx, t2g_config_validate(&c, &err) == T2G_OK, "it validates (%s)", err.message);

    /* a second file on top of the first changes only its own keys */
    check_true(ctx, parse_text(&c, "{\"optim\": {\"lr\": 0.01}}", &err) == T2G_OK, "a second file (%s)", err.message);
    want.optim.lr = 0.01;
    check_same(ctx, &c, &want, "a second file changes only its keys");
    check_true(ctx, parse_text(&c, " {} ", &err) == T2G_OK, "an empty object (%s)", err.message);
    check_same(ctx, &c, &want, "an empty object changes nothing");

    /* the text need not be NUL-terminated: only len bytes are read */
    const char *longer = "{\"seed\": 7}{\"seed\": 8}";
    check_true(ctx, t2g_config_parse(&c, longer, 11, "run.json", &err) == T2G_OK && c.seed == 7,
               "only the first len bytes are parsed (%s)", err.message);

    /* the key list, unique, with types and help, each in to_json with its JSON type */
    const t2g_config_key *keys = NULL;
    size_t count = t2g_config_keys(&keys);
    check_true(ctx, count == 94 && keys, "94 documented keys (%zu)", count);
    char *text = t2g_config_to_json(&d);
    cJSON *tree = text ? cJSON_Parse(text) : NULL;
    check_true(ctx, tree != NULL, "to_json gives JSON");
    check_true(ctx, tree && count_leaves(tree) == count, "to_json writes exactly the documented keys (%zu leaves)",
               tree ? count_leaves(tree) : 0);
    for (size_t i = 0; i < count && keys; i++) {
        const cJSON *item = tree ? json_at(tree, keys[i].path) : NULL;
        bool typed = item && (strcmp(keys[i].type, "string") == 0 ? cJSON_IsString(item) : cJSON_IsNumber(item));
        bool known = strcmp(keys[i].type, "string") == 0 || strcmp(keys[i].type, "integer") == 0 ||
                     strcmp(keys[i].type, "number") == 0;
        bool unique = true;
        for (size_t j = 0; j < i; j++) unique = unique && strcmp(keys[i].path, keys[j].path) != 0;
        if (!typed || !known || !unique || !keys[i].help || !*keys[i].help)
            check_true(ctx, false, "key %s: in to_json as a %s, unique, with help", keys[i].path, keys[i].type);
    }
    check_true(ctx, json_at(tree, "train.batch_size") && json_at(tree, "train.micro_batch") &&
                        json_at(tree, "train.steps") && json_at(tree, "train.log_every") && json_at(tree, "name") &&
                        json_at(tree, "seed") && json_at(tree, "device"),
               "batch_size, micro_batch, steps, log_every under \"train\"; name, seed, device at the top");
    check_log(ctx, "the defaults as JSON:\n%s", text ? text : "(null)");
    cJSON_Delete(tree);

    /* to_json of the defaults over any config gives the defaults back: every key is written */
    t2g_config r = random_config(ctx);
    check_true(ctx, text && parse_text(&r, text, &err) == T2G_OK, "the defaults' JSON parses (%s)", err.message);
    check_same(ctx, &r, &d, "the defaults' JSON read over a random config gives the defaults");
    free(text);

    /* round trips of random configs, bit for bit */
    int failed = 0;
    for (int round = 0; round < 200; round++) {
        t2g_config original = random_config(ctx), back = t2g_config_defaults();
        char *out = t2g_config_to_json(&original);
        t2g_status status = out ? parse_text(&back, out, &err) : T2G_ERR_MEMORY;
        char what[160] = "";
        if (status != T2G_OK || !same_config(&original, &back, what, sizeof what)) {
            if (failed++ < 3)
                check_fail(ctx, "round %d: %s%s\n%s", round, status ? err.message : "differs in ", status ? "" : what,
                           out ? out : "(null)");
        }
        char *again = out && status == T2G_OK ? t2g_config_to_json(&back) : NULL;
        if (again && strcmp(again, out) != 0 && failed++ < 3) check_fail(ctx, "round %d: to_json differs the second time", round);
        free(again);
        free(out);
    }
    check_true(ctx, failed == 0, "200 random configs survive to_json and parse bit for bit (%d failed)", failed);

    /* the embedded assets: every *.json parses over the defaults and validates */
    int assets = 0;
    t2g_config d_json = t2g_config_defaults();
    char *defaults_text = t2g_config_to_json(&d_json);
    cJSON *defaults_tree = defaults_text ? cJSON_Parse(defaults_text) : NULL;
    for (const char *const *name = t2g_asset_names(); *name; name++) {
        size_t n = strlen(*name);
        if (n < 5 || strcmp(*name + n - 5, ".json") != 0) continue;
        size_t len = 0;
        const char *bytes = t2g_asset(*name, &len);
        t2g_config a = t2g_config_defaults();
        char source[160];
        snprintf(source, sizeof source, "assets/%s", *name);
        bool ok = bytes && t2g_config_parse(&a, bytes, len, source, &err) == T2G_OK;
        ok = ok && t2g_config_validate(&a, &err) == T2G_OK;
        check_true(ctx, ok, "assets/%s parses and validates%s%s", *name, ok ? "" : ": ", ok ? "" : err.message);
        cJSON *asset_tree = bytes ? cJSON_Parse(bytes) : NULL;
        if (asset_tree && defaults_tree) check_leaves_differ(ctx, *name, asset_tree, defaults_tree, "");
        cJSON_Delete(asset_tree);
        assets++;
    }
    cJSON_Delete(defaults_tree);
    free(defaults_text);
    check_true(ctx, t2g_asset("train_arith.json", NULL) && t2g_asset("train_facts.json", NULL) && assets >= 2,
               "train_arith.json and train_facts.json are embedded (%d JSON assets)", assets);
    t2g_config arith = t2g_config_defaults(), facts = t2g_config_defaults();
    size_t len = 0;
    const char *bytes = t2g_asset("train_arith.json", &len);
    if (bytes) t2g_config_parse(&arith, bytes, len, "assets/train_arith.json", &err);
    bytes = t2g_asset("train_facts.json", &len);
    if (bytes) t2g_config_parse(&facts, bytes, len, "assets/train_facts.json", &err);
    check_true(ctx, strcmp(arith.data.task, "arith") == 0 && strcmp(facts.data.task, "facts") == 0,
               "the assets name their tasks");
    check_true(ctx, facts.model.context >= 128 && facts.eval.max_new_tokens >= 64, "facts: long context and responses");
    return ctx->failures;
}

/* ---- errors ---- */

typedef struct error_case {
    const char *json;
    const char *expect[3]; /* substrings of the message */
} error_case;

static void expect_message(check_ctx *ctx, t2g_status status, const t2g_error *err, const char *label,
                           const char *const *expect, size_t n) {
    bool ok = status == T2G_ERR_FORMAT;
    for (size_t i = 0; i < n && expect[i]; i++) ok = ok && strstr(err->message, expect[i]) != NULL;
    check_true(ctx, ok, "%s -> %s", label, status ? err->message : "no error");
}

T2G_HOST_CHECK(config_errors) {
    check_case_begin(ctx);
    static const error_case cases[] = {
        /* not JSON, with the line */
        {"{\n  \"name\": \"x\",\n  \"seed\": ,\n}", {"run.json:3: not valid JSON"}},
        {"{\n\"optim\": {\"lr\": 1e-3\n}\n\n", {"run.json:5: not valid JSON", "end of the text"}},
        {"", {"run.json:1: not valid JSON: no value"}},
        {"  \n ", {"run.json:2: not valid JSON: no value"}},
        {"{} {}", {"run.json:1: not valid JSON: text after the top-level object", "column 4"}},
        {"{\"name\": \"a\"\n,}", {"run.json:2: not valid JSON"}},
        /* unknown keys, with the nearest known one */
        {"{\"optim\": {\"lrr\": 1}}", {"run.json: unknown key \"optim.lrr\" (did you mean \"optim.lr\"?)"}},
        {"{\"batch_size\": 16}", {"run.json: unknown key \"batch_size\" (did you mean \"train.batch_size\"?)"}},
        {"{\"modle\": {\"width\": 16}}", {"run.json: unknown key \"modle\" (did you mean \"model\"?)"}},
        {"{\"schedule\": {\"warmup\": 5}}", {"unknown key \"schedule.warmup\" (did you mean \"schedule.warmup_steps\"?)"}},
        {"{\"model\": {\"width\": 16, \"layers\": {\"n\": 1}}}", {"run.json: model.layers: expected an integer, got an object"}},
        {"{\"train\": {\"batch_size\": 16, \"optim\": {\"lr\": 1}}}", {"unknown key \"train.optim\""}},
        {"{\"optim.lr\": 0.1}", {"run.json: key \"optim.lr\"", "nest groups"}},
        {"{\"\": 1}", {"run.json: key \"\""}},
        /* duplicates */
        {"{\"optim\": {\"lr\": 1e-3, \"beta1\": 0.8, \"lr\": 2e-3}}", {"run.json: duplicated key \"optim.lr\""}},
        {"{\"seed\": 5, \"seed\": 1}", {"run.json: duplicated key \"seed\""}},
        {"{\"eval\": {}, \"eval\": {\"every\": 1}}", {"run.json: duplicated key \"eval\""}},
        /* wrong types */
        {"{\"optim\": {\"lr\": \"3e-4\"}}", {"run.json: optim.lr: expected a number, got a string"}},
        {"{\"train\": {\"steps\": \"100\"}}", {"run.json: train.steps: expected an integer, got a string"}},
        {"{\"name\": 5}", {"run.json: name: expected a string, got a number"}},
        {"{\"data\": {\"task\": null}}", {"run.json: data.task: expected a string, got null"}},
        {"{\"seed\": true}", {"run.json: seed: expected an integer, got a boolean"}},
        {"{\"model\": {\"width\": [64]}}", {"run.json: model.width: expected an integer, got an array"}},
        {"{\"train\": {\"steps\": 10.5}}", {"run.json: train.steps: expected an integer, got 10.5"}},
        /* out of range */
        {"{\"model\": {\"layers\": 0}}", {"run.json: model.layers: 0 is out of range [1, 1024]"}},
        {"{\"train\": {\"steps\": -3}}", {"run.json: train.steps: -3 is out of range [1, 4294967295]"}},
        {"{\"eval\": {\"every\": 4294967296}}", {"run.json: eval.every: 4294967296 is out of range [0, 4294967295]"}},
        {"{\"seed\": 9007199254740992}", {"run.json: seed: 9007199254740992 is out of range [0, 9007199254740991]"}},
        {"{\"data\": {\"seed\": 18446744073709551615}}", {"run.json: data.seed:", "out of range"}},
        {"{\"optim\": {\"beta1\": 1}}", {"run.json: optim.beta1: 1 is out of range [0, 1)"}},
        {"{\"optim\": {\"epsilon\": 0}}", {"run.json: optim.epsilon: 0 is out of range (0, 1]"}},
        {"{\"optim\": {\"lr\": -0.001}}", {"run.json: optim.lr: -0.001 is out of range [0, 10]"}},
        {"{\"optim\": {\"grad_clip\": 1e999}}", {"run.json: optim.grad_clip: inf is not a finite number"}},
        {"{\"name\": \"0123456789012345678901234567890123456789012345678901234567890123\"}",
         {"run.json: name:", "is 64 bytes long; at most 63 fit"}},
        /* keys that take names */
        {"{\"data\": {\"format\": \"csv\"}}", {"run.json: data.format: expected \"sft\" or \"text\", got \"csv\""}},
        {"{\"schedule\": {\"kind\": \"linear\"}}", {"run.json: schedule.kind: expected \"cosine\" or \"constant\", got \"linear\""}},
        {"{\"rl\": {\"kl\": 1}}", {"run.json: rl.kl: expected a string, got a number"}},
        {"{\"name\": \"\"}", {"run.json: name: must not be empty"}},
        {"{\"name\": \"../up\"}", {"run.json: name: \"../up\" names a directory"}},
        {"{\"name\": \"a/b\"}", {"run.json: name: \"a/b\" names a directory"}},
        /* a non-object where an object is expected */
        {"{\"optim\": 3}", {"run.json: optim: expected an object", "got a number"}},
        {"{\"train\": \"fast\"}", {"run.json: train: expected an object", "got a string"}},
        {"[1, 2]", {"run.json: expected a JSON object", "got an array"}},
        {"\"name\"", {"run.json: expected a JSON object", "got a string"}},
    };
    t2g_error err = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        t2g_config c = t2g_config_defaults();
        t2g_status status = parse_text(&c, cases[i].json, &err);
        char label[96];
        snprintf(label, sizeof label, "%.60s", cases[i].json);
        for (char *p = label; *p; p++)
            if (*p == '\n') *p = ' ';
        expect_message(ctx, status, &err, label, cases[i].expect, 3);
        char what[160] = "";
        t2g_config d = t2g_config_defaults();
        if (!same_config(&c, &d, what, sizeof what)) check_fail(ctx, "a failed parse of %s changed %s", label, what);
    }
    /* a NUL inside the text */
    t2g_config c = t2g_config_defaults();
    t2g_status status = t2g_config_parse(&c, "{\n\"seed\"\0: 1}", 13, "run.json", &err);
    expect_message(ctx, status, &err, "a NUL byte", (const char *[]){"run.json:2: not valid JSON: a NUL byte"}, 1);
    /* the source names the file */
    status = t2g_config_parse(&c, "{\"x\": 1}", 8, "assets/train_arith.json", &err);
    expect_message(ctx, status, &err, "the source", (const char *[]){"assets/train_arith.json: unknown key \"x\""}, 1);

    /* t2g_config_validate: each rule, naming its keys */
    static const struct {
        const char *json;
        const char *expect;
    } invalid[] = {
        {"{\"train\": {\"batch_size\": 32, \"micro_batch\": 12}}", "train.micro_batch (12) must divide train.batch_size (32)"},
        {"{\"model\": {\"heads\": 3, \"width\": 64}}", "model.heads (3) must divide model.width (64)"},
        {"{\"train\": {\"logit_rows\": 100}}", "train.logit_rows (100) must be 0 (auto) or a multiple of 64: --set train.logit_rows=64"},
        {"{\"model\": {\"heads\": 2, \"width\": 512}}", "model.width / model.heads (512 / 2 = 256)"},
        {"{\"data\": {\"task\": \"\"}}", "data.task"},
        {"{\"data\": {\"path\": \"x.jsonl\"}}", "data.task (\"arith\") and data.path (\"x.jsonl\") are both set"},
        {"{\"schedule\": {\"warmup_steps\": 301}}", "schedule.warmup_steps (301) must be at most train.steps (300)"},
        {"{\"model\": {\"vocab\": 258}}", "model.vocab (258) must be at least 259"},
        {"{\"model\": {\"arch\": \"llama\", \"heads\": 4, \"kv_heads\": 3}}", "model.kv_heads (3) must divide model.heads (4)"},
        {"{\"model\": {\"arch\": \"llama\", \"heads\": 4, \"kv_heads\": 8}}", "model.kv_heads (8) must divide model.heads (4)"},
        {"{\"model\": {\"kv_heads\": 2}}", "model.kv_heads: model.arch \"gpt2\" has full attention heads"},
        {"{\"model\": {\"rope_theta\": 500000}}", "model.rope_theta: model.arch \"gpt2\""},
        {"{\"model\": {\"norm_eps\": 1e-6}}", "model.norm_eps: model.arch \"gpt2\""},
        {"{\"model\": {\"qkv_bias\": 1}}", "model.qkv_bias: model.arch \"gpt2\""},
        {"{\"model\": {\"tied_head\": 0}}", "model.tied_head: model.arch \"gpt2\""},
    };
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        t2g_config v = t2g_config_defaults();
        err.message[0] = '\0';
        status = parse_text(&v, invalid[i].json, &err);
        if (!check_true(ctx, status == T2G_OK, "%s parses (%s)", invalid[i].json, err.message)) continue;
        status = t2g_config_validate(&v, &err);
        expect_message(ctx, status, &err, invalid[i].json, &invalid[i].expect, 1);
    }
    t2g_config v = t2g_config_defaults();
    err.message[0] = '\0';
    check_true(ctx, parse_text(&v, "{\"data\": {\"task\": \"\", \"path\": \"x.txt\", \"format\": \"text\"}, "
                                   "\"schedule\": {\"kind\": \"constant\", \"warmup_steps\": 300}}", &err) == T2G_OK &&
                        t2g_config_validate(&v, &err) == T2G_OK,
               "a text file, a constant schedule, warmup == steps validate (%s)", err.message);
    v = t2g_config_defaults();
    check_true(ctx, parse_text(&v, "{\"model\": {\"arch\": \"llama\", \"heads\": 4, \"kv_heads\": 2, \"rope_theta\": 1e5, "
                                   "\"norm_eps\": 1e-6, \"qkv_bias\": 1, \"tied_head\": 0, \"ffn_width\": 88}}", &err) == T2G_OK &&
                        t2g_config_validate(&v, &err) == T2G_OK && v.model.arch == T2G_ARCH_LLAMA &&
                        t2g_model_kv_heads(&v.model) == 2 && t2g_model_ffn_width(&v.model) == 88,
               "a llama model with 2 kv heads, biases and an untied head validates (%s)", err.message);
    v = t2g_config_defaults();
    check_true(ctx, t2g_model_kv_heads(&v.model) == v.model.heads && t2g_model_ffn_width(&v.model) == 4 * v.model.width,
               "kv_heads 0 and ffn_width 0 mean heads and 4 x width");
    /* ranges are checked again on a config built in code */
    v = t2g_config_defaults();
    v.model.layers = 0;
    expect_message(ctx, t2g_config_validate(&v, &err), &err, "layers = 0 in code",
                   (const char *[]){"model.layers: 0 is out of range [1, 1024]"}, 1);
    v = t2g_config_defaults();
    v.seed = MAX_EXACT + 2;
    expect_message(ctx, t2g_config_validate(&v, &err), &err, "seed = 2^53 + 1 in code",
                   (const char *[]){"seed: 9007199254740993 is out of range"}, 1);
    v = t2g_config_defaults();
    v.optim.lr = NAN;
    expect_message(ctx, t2g_config_validate(&v, &err), &err, "lr = NaN in code", (const char *[]){"optim.lr:", "finite"}, 2);
    v = t2g_config_defaults();
    memset(v.data.task, 'x', sizeof v.data.task);
    expect_message(ctx, t2g_config_validate(&v, &err), &err, "an unterminated string in code",
                   (const char *[]){"data.task: \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\" is 32 bytes long; at most 31 fit"}, 1);
    v = t2g_config_defaults();
    v.rl.kl = (t2g_kl_estimate)7;
    expect_message(ctx, t2g_config_validate(&v, &err), &err, "a name's value out of range in code",
                   (const char *[]){"rl.kl: the value 7 is none of \"k1\" or \"full\""}, 1);
    return ctx->failures;
}

/* Each key that takes names: every name is set by --set and by a file, named back by
 * t2g_config_name and written back as itself by t2g_config_to_json. */
static void check_enum_keys(check_ctx *ctx) {
    static const struct {
        const char *path;
        const char *names[5];
        size_t offset;
    } keys[] = {
        {"data.format", {"sft", "text"}, offsetof(t2g_config, data.format)},
        {"schedule.kind", {"cosine", "constant"}, offsetof(t2g_config, schedule.kind)},
        {"rl.reward_granularity", {"span", "scalar"}, offsetof(t2g_config, rl.reward_granularity)},
        {"rl.kl", {"k1", "full"}, offsetof(t2g_config, rl.kl)},
        {"critic.kind", {"builtin", "external", "http", "model"}, offsetof(t2g_config, critic.kind)},
        {"critic.json_mode", {"auto", "on", "off"}, offsetof(t2g_config, critic.json_mode)},
        {"critic.constrain", {"json", "substrings", "none"}, offsetof(t2g_config, critic.constrain)},
    };
    t2g_error err = {0};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        for (unsigned v = 0; keys[i].names[v]; v++) {
            t2g_config c = t2g_config_defaults();
            char set[96];
            snprintf(set, sizeof set, "%s=%s", keys[i].path, keys[i].names[v]);
            bool ok = t2g_config_set(&c, set, &err) == T2G_OK;
            unsigned got;
            memcpy(&got, (const char *)&c + keys[i].offset, sizeof got);
            const char *name = t2g_config_name(keys[i].path, v);
            char *json = t2g_config_to_json(&c);
            cJSON *tree = json ? cJSON_Parse(json) : NULL;
            const cJSON *written = tree ? json_at(tree, keys[i].path) : NULL;
            t2g_config again = t2g_config_defaults();
            bool reread = json && t2g_config_parse(&again, json, strlen(json), "written", &err) == T2G_OK &&
                          memcmp((const char *)&again + keys[i].offset, &got, sizeof got) == 0;
            check_true(ctx,
                       ok && got == v && name && strcmp(name, keys[i].names[v]) == 0 && cJSON_IsString(written) &&
                           strcmp(written->valuestring, keys[i].names[v]) == 0 && reread,
                       "%s: set, named, written and read back as value %u", set, v);
            cJSON_Delete(tree);
            free(json);
        }
        unsigned names = 0;
        while (names < 5 && keys[i].names[names]) names++;
        check_true(ctx, t2g_config_name(keys[i].path, names) == NULL, "%s has %u names", keys[i].path, names);
    }
    check_true(ctx, t2g_config_name("optim.lr", 0) == NULL && t2g_config_name("no.such", 0) == NULL,
               "t2g_config_name names only the values of keys that take names");
}

T2G_HOST_CHECK(config_set) {
    check_case_begin(ctx);
    t2g_error err = {0};
    t2g_config c = t2g_config_defaults(), want = t2g_config_defaults();
    static const char *const good[] = {
        "optim.lr=3e-4", "data.task=facts", "seed=9007199254740991", "train.steps=1e3", "data.path=/tmp/a=b.jsonl",
        "device=", "name=run-2", "optim.beta2=0.999 ", "data.seed=0",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        check_true(ctx, t2g_config_set(&c, good[i], &err) == T2G_OK, "--set %s (%s)", good[i], err.message);
    check_enum_keys(ctx);
    want.optim.lr = 3e-4;
    strcpy(want.data.task, "facts");
    want.seed = MAX_EXACT;
    want.steps = 1000;
    strcpy(want.data.path, "/tmp/a=b.jsonl");
    strcpy(want.name, "run-2");
    want.optim.beta2 = 0.999;
    want.data.seed = 0;
    check_same(ctx, &c, &want, "each --set sets its key (strings unquoted), nothing else");

    static const struct {
        const char *set;
        const char *expect[2];
    } bad[] = {
        {"optim.lr", {"--set: expected KEY=VALUE", "\"optim.lr\""}},
        {"", {"--set: expected KEY=VALUE"}},
        {"=3", {"--set: \"=3\" names no key"}},
        {"optim.lrr=1", {"--set: unknown key \"optim.lrr\" (did you mean \"optim.lr\"?)"}},
        {"batch_size=8", {"--set: unknown key \"batch_size\" (did you mean \"train.batch_size\"?)"}},
        {"optim=1", {"--set: \"optim\" is a group of keys, not a key"}},
        {"optim.lr=abc", {"--set: optim.lr: expected a number, got \"abc\""}},
        {"optim.lr=", {"--set: optim.lr: expected a number, got \"\""}},
        {"optim.lr= 1", {"--set: optim.lr: expected a number"}},
        {"optim.lr=1x", {"--set: optim.lr: expected a number, got \"1x\""}},
        {"optim.lr=\"0.1\"", {"--set: optim.lr: expected a number"}},
        {"train.steps=1.5", {"--set: train.steps: expected an integer, got 1.5"}},
        {"model.layers=-1", {"--set: model.layers: -1 is out of range [1, 1024]"}},
        {"seed=9007199254740993", {"--set: seed:", "out of range"}},
        {"optim.beta1=1", {"--set: optim.beta1: 1 is out of range [0, 1)"}},
        {"name=", {"--set: name: must not be empty"}},
        {"data.format=sentences", {"--set: data.format: expected \"sft\" or \"text\", got \"sentences\""}},
        {"schedule.kind=Cosine", {"--set: schedule.kind: expected \"cosine\" or \"constant\", got \"Cosine\""}},
        {"critic.kind=", {"--set: critic.kind: expected \"builtin\", \"external\", \"http\" or \"model\", got \"\""}},
        {"critic.constrain=grammar", {"--set: critic.constrain: expected \"json\", \"substrings\" or \"none\", got \"grammar\""}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t2g_config before = c;
        t2g_status status = t2g_config_set(&c, bad[i].set, &err);
        char label[96];
        snprintf(label, sizeof label, "--set %s", bad[i].set);
        expect_message(ctx, status, &err, label, bad[i].expect, 2);
        char what[160] = "";
        if (!same_config(&c, &before, what, sizeof what)) check_fail(ctx, "a failed %s changed %s", label, what);
    }
    return ctx->failures;
}
