/* t2g export MODEL --format hf --out DIR: a model as a folder another tool loads (a Hugging Face
 * folder for transformers: t2g_hf_write). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const char HELP[] =
    "usage: t2g export MODEL --out DIR [--format hf] [--device N|NAME]\n"
    "\n"
    "Writes a model as a folder another tool loads. MODEL is a t2g checkpoint, a run folder (its\n"
    "checkpoint.bin) or a Hugging Face folder. The one format is hf (GGUF comes later): a Hugging\n"
    "Face folder that transformers loads with AutoModelForCausalLM.from_pretrained(DIR):\n"
    "config.json (gpt2: GPT2LMHeadModel; llama: LlamaForCausalLM, or Qwen2ForCausalLM with q/k/v\n"
    "biases), model.safetensors (float32), generation_config.json, and t2g's byte tokenizer\n"
    "(tokenizer.json, tokenizer_config.json: ids 0-255 the bytes, 256 <|bos|>, 257 <|eos|>, 258\n"
    "<|pad|>; t2g's sequences begin with <|bos|>). `t2g sample --model DIR` reads it back. Only the\n"
    "model is exported: an RL run's value head and the optimizer's moments are not.\n"
    "\n"
    "  --out DIR     the folder to write: a new one (its parent must exist) or an empty one; a folder\n"
    "                holding anything is refused, nothing is overwritten\n"
    "  --format F    hf (the default)\n"
    "  --device D    the device that holds the model while it is read\n"
    "\n"
    "example: t2g export runs/arith-20261127-120000 --format hf --out exported/arith\n";

static const char *const WRITTEN[] = {"config.json", "model.safetensors", "generation_config.json", "tokenizer.json",
                                      "tokenizer_config.json"};

/* EXIT_USAGE (with the message) unless `out` is absent or an empty folder. */
static int check_out(const char *out) {
    struct stat st;
    if (stat(out, &st) != 0) return EXIT_OK;
    if (!S_ISDIR(st.st_mode)) {
        cli_error("export: --out %s exists and is not a folder; name a new folder", out);
        return EXIT_USAGE;
    }
    DIR *dir = opendir(out);
    if (!dir) {
        cli_error("export: --out %s: cannot read the folder: %s", out, strerror(errno));
        return EXIT_USAGE;
    }
    const struct dirent *entry;
    const char *found = NULL;
    while (!found && (entry = readdir(dir)) != NULL)
        if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0) found = entry->d_name;
    int code = EXIT_OK;
    if (found) {
        cli_error("export: --out %s is not empty (it holds %s): t2g export writes only into a new or an empty folder "
                  "and never overwrites files; remove it or name another folder",
                  out, found);
        code = EXIT_USAGE;
    }
    closedir(dir);
    return code;
}

/* The model's parameters on the host, through the device (the table lives with the model). */
static int read_model(t2g_device *device, t2g_model_source *source, const char *out, t2g_gpt **gpt,
                      float **params) {
    const t2g_model_config *model = &source->config.model;
    t2g_error err = {0};
    t2g_status status = t2g_gpt_create_frozen(device, model, 1, 1, gpt, &err); /* the weights only */
    if (!status) status = t2g_model_source_write(source, *gpt, false, &err);
    uint64_t n = status ? 0 : t2g_gpt_buffer_floats(*gpt);
    *params = status ? NULL : malloc((n ? n : 1) * sizeof **params);
    if (!status && !*params) status = t2g_fail(&err, T2G_ERR_MEMORY, "out of host memory for %llu parameters", (unsigned long long)n);
    if (!status) status = t2g_gpt_read(*gpt, *params, NULL, NULL, &err);
    if (!status) return EXIT_OK;
    cli_error("export: %s: %s", out, err.message);
    return err.status == T2G_ERR_MEMORY || err.status == T2G_ERR_VULKAN ? EXIT_FAILED : EXIT_USAGE;
}

static void print_written(const char *in, const t2g_model_source *source, const char *out, uint64_t parameters) {
    const t2g_model_config *m = &source->config.model;
    printf("exported %s (%s, %s, %llu parameters) to %s, a Hugging Face folder:\n", in,
           t2g_model_path_kind_name(source->kind), m->arch == T2G_ARCH_LLAMA ? "llama" : "gpt2",
           (unsigned long long)parameters, out);
    for (size_t i = 0; i < sizeof WRITTEN / sizeof WRITTEN[0]; i++) {
        char path[4300];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", out, WRITTEN[i]);
        if (stat(path, &st) == 0) printf("  %-44s %10lld bytes\n", path, (long long)st.st_size);
    }
    if (source->checkpoint.aux_count)
        printf("note: the RL run's value head (%llu parameters) is not part of the export: only the policy is\n",
               (unsigned long long)source->checkpoint.aux_count);
    printf("load it with: t2g sample --model %s, or transformers' AutoModelForCausalLM.from_pretrained\n", out);
}

static int export_hf(t2g_device *device, const char *in, const char *out) {
    t2g_model_source source;
    t2g_error err = {0};
    if (t2g_model_source_open(in, 0, &source, &err)) {
        cli_error("export: %s", err.message);
        return EXIT_USAGE;
    }
    t2g_gpt *gpt = NULL;
    float *params = NULL;
    int code = read_model(device, &source, out, &gpt, &params);
    if (!code) {
        const t2g_gpt_param *table;
        uint32_t count = t2g_gpt_params(gpt, &table);
        t2g_hf_text files = {0};
        size_t tokenizer_len, config_len;
        t2g_text_files(source.text, &files.tokenizer_json, &tokenizer_len, &files.tokenizer_config_json, &config_len);
        t2g_text_special_ids(source.text, &files.bos_id, &files.eos_id, &files.pad_id);
        bool bytes = t2g_text_is_bytes(source.text);
        if (t2g_hf_write(out, t2g_gpt_config(gpt), table, count, params, bytes ? NULL : &files, &err)) {
            cli_error("export: %s", err.message);
            code = err.status == T2G_ERR_IO ? EXIT_FAILED : EXIT_USAGE;
        }
    }
    if (!code) print_written(in, &source, out, t2g_gpt_parameter_count(gpt));
    free(params);
    t2g_gpt_destroy(gpt);
    t2g_model_source_close(&source);
    return code;
}

int cmd_export(int argc, char **argv) {
    const char *in = NULL, *out = NULL, *format = "hf", *device = NULL;
    cli_args args = cli_args_start(argc, argv, 2, "export");
    while (cli_args_more(&args)) {
        const char *arg = argv[args.i];
        if (cli_flag(&args, "--help") || cli_flag(&args, "-h")) {
            fputs(HELP, stdout);
            return EXIT_OK;
        } else if (cli_value(&args, "--out", &out) || cli_value(&args, "--format", &format) ||
                   cli_value(&args, "--device", &device)) {
        } else if ((arg[0] == '-' && arg[1]) || in) {
            return cli_unknown(&args);
        } else {
            in = arg;
            args.i++;
        }
    }
    if (args.failed) return EXIT_USAGE;
    if (!in || !out) {
        cli_error("export: name the model and --out DIR (see 't2g export --help')");
        return EXIT_USAGE;
    }
    if (strcmp(format, "hf") != 0) {
        cli_error("export: --format %s: the formats are hf (a Hugging Face folder); gguf comes later", format);
        return EXIT_USAGE;
    }
    t2g_model_path_kind kind;
    char resolved[4200];
    t2g_error err = {0};
    if (t2g_model_path(in, &kind, resolved, sizeof resolved, &err)) {
        cli_error("export: %s", err.message);
        return EXIT_USAGE;
    }
    if (check_out(out)) return EXIT_USAGE;
    t2g_device *dev;
    int code = cli_open_device(device, &dev);
    if (code) return code;
    code = export_hf(dev, in, out);
    int closing = cli_close_device(dev);
    return code ? code : closing;
}
