/* t2g export MODEL --format hf --out DIR | --format gguf [--dtype D] --out FILE: a model as a
 * folder or file another tool loads (a Hugging Face folder for transformers: t2g_hf_write; a GGUF
 * file for llama.cpp and transformers: t2g_gguf_write_model). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "t2g/gguf.h"
#include "t2g/gguf_export.h"

static const char HELP[] =
    "usage: t2g export MODEL --out DIR [--format hf] [--device N|NAME]\n"
    "       t2g export MODEL --format gguf [--dtype f32|f16|bf16|q8_0] --out FILE [--device N|NAME]\n"
    "\n"
    "Writes a model as a folder or file another tool loads. MODEL is a t2g checkpoint, a run folder\n"
    "(its checkpoint.bin), a Hugging Face folder or a GGUF file. Only the model is exported: an RL\n"
    "run's value head and the optimizer's moments are not.\n"
    "\n"
    "hf: a Hugging Face folder that transformers loads with AutoModelForCausalLM.from_pretrained(DIR):\n"
    "config.json (gpt2: GPT2LMHeadModel; llama: LlamaForCausalLM, or Qwen2ForCausalLM with q/k/v\n"
    "biases), model.safetensors (float32), generation_config.json, and the tokenizer: the model's own\n"
    "tokenizer.json and tokenizer_config.json, or for t2g's models its byte tokenizer (ids 0-255 the\n"
    "bytes, 256 <|bos|>, 257 <|eos|>, 258 <|pad|>; t2g's sequences begin with <|bos|>).\n"
    "\n"
    "gguf: one GGUF file (version 3) for llama.cpp, the gguf Python package and transformers'\n"
    "from_pretrained(DIR, gguf_file=FILE): general.architecture gpt2, llama, or qwen2 (a llama with\n"
    "q/k/v biases), the <arch>.* hyperparameters, the tensors under llama.cpp's names (Llama's q/k\n"
    "rows interleaved per head as llama.cpp's converter stores them), and the tokenizer as\n"
    "tokenizer.ggml.* (a byte-level BPE, \"gpt2\"; t2g's byte tokenizer too) with the chat template.\n"
    "\n"
    "`t2g sample --model DIR|FILE` reads either back.\n"
    "\n"
    "  --out PATH    hf: the folder to write, a new one (its parent must exist) or an empty one;\n"
    "                gguf: the file to write, which must not exist. Nothing is overwritten.\n"
    "  --format F    hf (the default) or gguf\n"
    "  --dtype D     gguf only: the matrices' type, f32 (the default), f16, bf16 (rounded to nearest\n"
    "                even) or q8_0 (blocks of 32 with an f16 scale). 1-D tensors (norms, biases) stay\n"
    "                f32 at every dtype, and with q8_0 so do matrices whose rows are not a multiple\n"
    "                of 32 elements\n"
    "  --device D    the device that holds the model while it is read\n"
    "\n"
    "examples: t2g export runs/arith-20261127-120000 --format hf --out exported/arith\n"
    "          t2g export runs/arith-20261127-120000 --format gguf --dtype q8_0 --out arith.gguf\n";

static const char *const WRITTEN[] = {"config.json", "model.safetensors", "generation_config.json", "tokenizer.json",
                                      "tokenizer_config.json"};

/* EXIT_USAGE (with the message) unless the GGUF file `out` is absent. */
static int check_out_file(const char *out) {
    struct stat st;
    if (stat(out, &st) != 0) return EXIT_OK;
    cli_error("export: --out %s exists: t2g export --format gguf writes a new file and never overwrites one; remove "
              "it or name another file", out);
    return EXIT_USAGE;
}

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

/* The model's parameters on the host, through the device (the table lives with the model): in
 * f32 whatever precision it trained in (a frozen 16-bit model would keep its matrices rounded). */
static int read_model(t2g_device *device, t2g_model_source *source, const char *out, t2g_gpt **gpt,
                      float **params) {
    t2g_model_config model = source->config.model;
    model.precision = T2G_PRECISION_F32;
    t2g_error err = {0};
    t2g_status status = t2g_gpt_create_frozen(device, &model, 1, 1, gpt, &err); /* the weights only */
    if (!status) status = t2g_model_source_write(source, *gpt, false, &err);
    uint64_t n = status ? 0 : t2g_gpt_buffer_floats(*gpt);
    *params = status ? NULL : malloc((n ? n : 1) * sizeof **params);
    if (!status && !*params) status = t2g_fail(&err, T2G_ERR_MEMORY, "out of host memory for %llu parameters", (unsigned long long)n);
    if (!status) status = t2g_gpt_read(*gpt, *params, NULL, NULL, &err);
    if (!status) return EXIT_OK;
    cli_error("export: %s: %s", out, err.message);
    return err.status == T2G_ERR_MEMORY || err.status == T2G_ERR_VULKAN ? EXIT_FAILED : EXIT_USAGE;
}

/* The GGUF file written: its size and its tensors by type. */
static void print_gguf(const char *out) {
    struct stat st;
    t2g_gguf *file = NULL;
    t2g_error err = {0};
    if (stat(out, &st) != 0 || t2g_gguf_open(out, &file, &err)) return;
    printf("  %-44s %10lld bytes, %llu metadata keys, %llu tensors\n", out, (long long)st.st_size,
           (unsigned long long)t2g_gguf_key_count(file), (unsigned long long)t2g_gguf_tensor_count(file));
    static const t2g_gguf_write_type TYPES[] = {T2G_GGUF_WRITE_F32, T2G_GGUF_WRITE_F16, T2G_GGUF_WRITE_BF16,
                                                T2G_GGUF_WRITE_Q8_0};
    for (size_t k = 0; k < sizeof TYPES / sizeof TYPES[0]; k++) {
        uint64_t tensors = 0, bytes = 0;
        for (uint64_t i = 0; i < t2g_gguf_tensor_count(file); i++) {
            const t2g_gguf_tensor *t = t2g_gguf_tensor_at(file, i);
            if (t->type == (uint32_t)TYPES[k]) tensors++, bytes += t->bytes;
        }
        if (tensors)
            printf("    %-5s %4llu tensors %12llu bytes\n", t2g_gguf_write_type_name(TYPES[k]),
                   (unsigned long long)tensors, (unsigned long long)bytes);
    }
    t2g_gguf_close(file);
}

static void print_written(const char *in, const t2g_model_source *source, const char *out, bool gguf,
                          uint64_t parameters) {
    const t2g_model_config *m = &source->config.model;
    printf("exported %s (%s, %s, %llu parameters) to %s, %s:\n", in, t2g_model_path_kind_name(source->kind),
           m->arch == T2G_ARCH_LLAMA ? "llama" : "gpt2", (unsigned long long)parameters, out,
           gguf ? "a GGUF file" : "a Hugging Face folder");
    for (size_t i = 0; !gguf && i < sizeof WRITTEN / sizeof WRITTEN[0]; i++) {
        char path[4300];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", out, WRITTEN[i]);
        if (stat(path, &st) == 0) printf("  %-44s %10lld bytes\n", path, (long long)st.st_size);
    }
    if (gguf) print_gguf(out);
    if (source->checkpoint.aux_count)
        printf("note: the RL run's value head (%llu parameters) is not part of the export: only the policy is\n",
               (unsigned long long)source->checkpoint.aux_count);
    if (gguf)
        printf("load it with: t2g sample --model %s, llama.cpp, or transformers' "
               "AutoModelForCausalLM.from_pretrained(DIR, gguf_file=FILE)\n", out);
    else
        printf("load it with: t2g sample --model %s, or transformers' AutoModelForCausalLM.from_pretrained\n", out);
}

/* Writes the model read into gpt/params in the format asked for. */
static t2g_status write_model(const t2g_model_source *source, const t2g_gpt *gpt, const float *params, const char *out,
                              const t2g_gguf_write_type *gguf_dtype, t2g_error *err) {
    const t2g_gpt_param *table;
    uint32_t count = t2g_gpt_params(gpt, &table);
    if (gguf_dtype)
        return t2g_gguf_write_model(out, t2g_gpt_config(gpt), table, count, params, source->text, *gguf_dtype, err);
    t2g_hf_text files = {0};
    size_t tokenizer_len, config_len;
    t2g_text_files(source->text, &files.tokenizer_json, &tokenizer_len, &files.tokenizer_config_json, &config_len);
    t2g_text_special_ids(source->text, &files.bos_id, &files.eos_id, &files.pad_id);
    bool bytes = t2g_text_is_bytes(source->text);
    return t2g_hf_write(out, t2g_gpt_config(gpt), table, count, params, bytes ? NULL : &files, err);
}

/* gguf_dtype NULL: a Hugging Face folder; else a GGUF file of that type. */
static int export_model(t2g_device *device, const char *in, const char *out, const t2g_gguf_write_type *gguf_dtype) {
    t2g_model_source source;
    t2g_error err = {0};
    if (t2g_model_source_open(in, 0, &source, &err)) {
        cli_error("export: %s", err.message);
        return EXIT_USAGE;
    }
    t2g_gpt *gpt = NULL;
    float *params = NULL;
    int code = read_model(device, &source, out, &gpt, &params);
    if (!code && write_model(&source, gpt, params, out, gguf_dtype, &err)) {
        cli_error("export: %s", err.message);
        code = err.status == T2G_ERR_IO || err.status == T2G_ERR_MEMORY ? EXIT_FAILED : EXIT_USAGE;
    }
    if (!code) print_written(in, &source, out, gguf_dtype != NULL, t2g_gpt_parameter_count(gpt));
    free(params);
    t2g_gpt_destroy(gpt);
    t2g_model_source_close(&source);
    return code;
}

int cmd_export(int argc, char **argv) {
    const char *in = NULL, *out = NULL, *format = "hf", *device = NULL, *dtype = NULL;
    cli_args args = cli_args_start(argc, argv, 2, "export");
    while (cli_args_more(&args)) {
        const char *arg = argv[args.i];
        if (cli_flag(&args, "--help") || cli_flag(&args, "-h")) {
            fputs(HELP, stdout);
            return EXIT_OK;
        } else if (cli_value(&args, "--out", &out) || cli_value(&args, "--format", &format) ||
                   cli_value(&args, "--dtype", &dtype) || cli_value(&args, "--device", &device)) {
        } else if ((arg[0] == '-' && arg[1]) || in) {
            return cli_unknown(&args);
        } else {
            in = arg;
            args.i++;
        }
    }
    if (args.failed) return EXIT_USAGE;
    if (!in || !out) {
        cli_error("export: name the model and --out DIR|FILE (see 't2g export --help')");
        return EXIT_USAGE;
    }
    bool gguf = strcmp(format, "gguf") == 0;
    if (!gguf && strcmp(format, "hf") != 0) {
        cli_error("export: --format %s: the formats are hf (a Hugging Face folder) and gguf (a GGUF file)", format);
        return EXIT_USAGE;
    }
    if (dtype && !gguf) {
        cli_error("export: --dtype %s is for --format gguf; --format hf writes float32", dtype);
        return EXIT_USAGE;
    }
    t2g_gguf_write_type gguf_dtype = T2G_GGUF_WRITE_F32;
    if (dtype && !t2g_gguf_write_type_from_name(dtype, &gguf_dtype)) {
        cli_error("export: --dtype %s: the GGUF dtypes are f32, f16, bf16 and q8_0", dtype);
        return EXIT_USAGE;
    }
    t2g_model_path_kind kind;
    char resolved[4200];
    t2g_error err = {0};
    if (t2g_model_path(in, &kind, resolved, sizeof resolved, &err)) {
        cli_error("export: %s", err.message);
        return EXIT_USAGE;
    }
    if (gguf ? check_out_file(out) : check_out(out)) return EXIT_USAGE;
    t2g_device *dev;
    int code = cli_open_device(device, &dev);
    if (code) return code;
    code = export_model(dev, in, out, gguf ? &gguf_dtype : NULL);
    int closing = cli_close_device(dev);
    return code ? code : closing;
}
