/* Compute pipelines built from the embedded SPIR-V, one per (shader, specialization
 * constants), built on first use and kept for the device's lifetime: a command creates only
 * the pipelines it uses. Threads may ask for pipelines at once: the table is guarded by the
 * device's pipeline_lock, a pipeline is created outside it (so different pipelines are created
 * in parallel; the VkPipelineCache is made without VK_PIPELINE_CACHE_CREATE_EXTERNALLY_
 * SYNCHRONIZED_BIT, so the driver synchronizes it), and a thread asking for one that another
 * is creating waits for that one rather than creating it again. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/grow.h"
#include "shaders.h"
#include "vk_internal.h"

const t2g_shader_blob *t2g_shader_find(const char *name) {
    for (size_t i = 0; i < t2g_shader_blob_count; i++)
        if (strcmp(t2g_shader_blobs[i]->name, name) == 0) return t2g_shader_blobs[i];
    return NULL;
}

static bool same_pipeline(const t2g_pipeline *p, const char *shader, const uint32_t *spec, uint32_t spec_count,
                          uint32_t binding_count, uint32_t texel_bindings) {
    return p->spec_count == spec_count && p->binding_count == binding_count && p->texel_bindings == texel_bindings &&
           strcmp(p->shader, shader) == 0 &&
           (spec_count == 0 || memcmp(p->spec, spec, spec_count * sizeof *spec) == 0);
}

static void destroy_pipeline(t2g_device *device, t2g_pipeline *p) {
    if (!p) return;
    if (p->pipeline) vkDestroyPipeline(device->device, p->pipeline, NULL);
    if (p->layout) vkDestroyPipelineLayout(device->device, p->layout, NULL);
    if (p->set_layout) vkDestroyDescriptorSetLayout(device->device, p->set_layout, NULL);
    free(p);
}

static t2g_status create_layouts(t2g_device *device, t2g_pipeline *p, t2g_error *err) {
    VkDescriptorSetLayoutBinding bindings[T2G_MAX_BINDINGS];
    for (uint32_t i = 0; i < p->binding_count; i++)
        bindings[i] = (VkDescriptorSetLayoutBinding){
            .binding = i,
            .descriptorType = (p->texel_bindings >> i & 1u) ? VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER
                                                            : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .descriptorCount = 1,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        };
    VkDescriptorSetLayoutCreateInfo set_info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = p->binding_count,
        .pBindings = bindings,
    };
    VkResult result = vkCreateDescriptorSetLayout(device->device, &set_info, NULL, &p->set_layout);
    if (result != VK_SUCCESS) return t2g_vk_fail(err, result, "creating the descriptor set layout of shader %s", p->shader);
    VkPushConstantRange push = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = T2G_PUSH_CONSTANT_BYTES};
    VkPipelineLayoutCreateInfo layout_info = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &p->set_layout,
        .pushConstantRangeCount = 1,
        .pPushConstantRanges = &push,
    };
    result = vkCreatePipelineLayout(device->device, &layout_info, NULL, &p->layout);
    if (result != VK_SUCCESS) return t2g_vk_fail(err, result, "creating the pipeline layout of shader %s", p->shader);
    return T2G_OK;
}

static t2g_status create_pipeline(t2g_device *device, t2g_pipeline *p, const t2g_shader_blob *blob, t2g_error *err) {
    VkShaderModuleCreateInfo module_info = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = blob->bytes,
        .pCode = blob->code,
    };
    VkShaderModule module;
    VkResult result = vkCreateShaderModule(device->device, &module_info, NULL, &module);
    if (result != VK_SUCCESS) return t2g_vk_fail(err, result, "creating the shader module of %s", p->shader);
    VkSpecializationMapEntry entries[T2G_MAX_SPEC_CONSTANTS];
    for (uint32_t i = 0; i < p->spec_count; i++)
        entries[i] = (VkSpecializationMapEntry){.constantID = i, .offset = i * 4, .size = 4};
    VkSpecializationInfo specialization = {
        .mapEntryCount = p->spec_count,
        .pMapEntries = entries,
        .dataSize = p->spec_count * 4,
        .pData = p->spec,
    };
    VkComputePipelineCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {
            .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
            .stage = VK_SHADER_STAGE_COMPUTE_BIT,
            .module = module,
            .pName = "main",
            .pSpecializationInfo = p->spec_count ? &specialization : NULL,
        },
        .layout = p->layout,
    };
    result = vkCreateComputePipelines(device->device, device->pipeline_cache, 1, &info, NULL, &p->pipeline);
    vkDestroyShaderModule(device->device, module, NULL);
    if (result != VK_SUCCESS) return t2g_vk_fail(err, result, "creating the compute pipeline of shader %s", p->shader);
    return T2G_OK;
}

/* The pipeline of this key in the table, or NULL; with device->pipeline_lock held. */
static t2g_pipeline *find(const t2g_device *device, const char *shader, const uint32_t *spec, uint32_t spec_count,
                          uint32_t binding_count, uint32_t texel_bindings) {
    for (uint32_t i = 0; i < device->pipeline_count; i++)
        if (same_pipeline(device->pipelines[i], shader, spec, spec_count, binding_count, texel_bindings))
            return device->pipelines[i];
    return NULL;
}

/* Takes p out of the table (its creation failed); with device->pipeline_lock held. */
static void remove_pipeline(t2g_device *device, const t2g_pipeline *p) {
    for (uint32_t i = 0; i < device->pipeline_count; i++)
        if (device->pipelines[i] == p) {
            device->pipelines[i] = device->pipelines[--device->pipeline_count];
            return;
        }
}

/* A new entry for the key, in the table and marked as being built; with device->pipeline_lock
 * held. NULL when out of host memory. */
static t2g_pipeline *add_pipeline(t2g_device *device, const t2g_shader_blob *blob, const uint32_t *spec,
                                  uint32_t spec_count, uint32_t binding_count, uint32_t texel_bindings) {
    if (!t2g_grow(&device->pipelines, &device->pipeline_capacity, device->pipeline_count + 1ull,
                  sizeof *device->pipelines))
        return NULL;
    t2g_pipeline *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->shader = blob->name;
    p->spec_count = spec_count;
    if (spec_count) memcpy(p->spec, spec, spec_count * sizeof *spec);
    p->binding_count = binding_count;
    p->texel_bindings = texel_bindings;
    device->pipelines[device->pipeline_count++] = p;
    return p;
}

/* The test hook of t2g_device_test_hold_pipelines: waits, at most 10 s, until that many threads
 * wait for a pipeline (none when it is off). */
static void hold_for_waiters(t2g_device *device) {
    pthread_mutex_lock(&device->pipeline_lock);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    while (device->pipeline_stats.waits < device->test_hold_waiters &&
           pthread_cond_timedwait(&device->pipeline_built, &device->pipeline_lock, &deadline) == 0) {
    }
    pthread_mutex_unlock(&device->pipeline_lock);
}

/* Creates p's Vulkan objects, without the lock; then, with it, marks p built (or takes it out
 * of the table and frees it) and wakes the threads waiting for it. */
static t2g_status build(t2g_device *device, t2g_pipeline *p, const t2g_shader_blob *blob, t2g_error *err) {
    hold_for_waiters(device);
    double start = t2g_clock_ms();
    t2g_status status = create_layouts(device, p, err);
    if (!status) status = create_pipeline(device, p, blob, err);
    double ms = t2g_clock_ms() - start;
    pthread_mutex_lock(&device->pipeline_lock);
    if (status) {
        remove_pipeline(device, p);
        destroy_pipeline(device, p);
    } else {
        p->built = true;
        device->pipeline_stats.created++;
        device->pipeline_stats.create_ms += ms;
    }
    pthread_cond_broadcast(&device->pipeline_built);
    pthread_mutex_unlock(&device->pipeline_lock);
    return status;
}

t2g_status t2g_pipeline_get(t2g_device *device, const char *shader, const uint32_t *spec, uint32_t spec_count,
                            uint32_t binding_count, uint32_t texel_bindings, const t2g_pipeline **out,
                            t2g_error *err) {
    const t2g_shader_blob *blob = t2g_shader_find(shader);
    if (!blob) return t2g_fail(err, T2G_ERR_ARGUMENT, "no shader named '%s' is embedded in t2g", shader);
    if (spec_count > T2G_MAX_SPEC_CONSTANTS || binding_count > T2G_MAX_BINDINGS)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "shader %s: %u specialization constants and %u bindings (at most %d and %d)",
                        shader, spec_count, binding_count, T2G_MAX_SPEC_CONSTANTS, T2G_MAX_BINDINGS);
    pthread_mutex_lock(&device->pipeline_lock);
    t2g_pipeline *p = find(device, shader, spec, spec_count, binding_count, texel_bindings);
    if (p && !p->built) {
        device->pipeline_stats.waits++;
        pthread_cond_broadcast(&device->pipeline_built); /* for hold_for_waiters */
    }
    while (p && !p->built) { /* another thread is creating it: wait, then look again (it may have failed) */
        pthread_cond_wait(&device->pipeline_built, &device->pipeline_lock);
        p = find(device, shader, spec, spec_count, binding_count, texel_bindings);
    }
    if (p) {
        pthread_mutex_unlock(&device->pipeline_lock);
        *out = p;
        return T2G_OK;
    }
    p = add_pipeline(device, blob, spec, spec_count, binding_count, texel_bindings);
    pthread_mutex_unlock(&device->pipeline_lock);
    if (!p) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory building pipeline %s", shader);
    t2g_status status = build(device, p, blob, err);
    if (status) return status;
    *out = p;
    return T2G_OK;
}

t2g_status t2g_pipelines_init(t2g_device *device, t2g_error *err) {
    int code = pthread_mutex_init(&device->pipeline_lock, NULL);
    if (code) return t2g_fail(err, T2G_ERR_MEMORY, "creating the lock of the pipeline table: %s", strerror(code));
    code = pthread_cond_init(&device->pipeline_built, NULL);
    if (code) {
        pthread_mutex_destroy(&device->pipeline_lock);
        return t2g_fail(err, T2G_ERR_MEMORY, "creating the condition of the pipeline table: %s", strerror(code));
    }
    device->pipeline_lock_made = true;
    return T2G_OK;
}

void t2g_pipelines_destroy(t2g_device *device) {
    for (uint32_t i = 0; i < device->pipeline_count; i++) destroy_pipeline(device, device->pipelines[i]);
    free(device->pipelines);
    device->pipelines = NULL;
    device->pipeline_count = device->pipeline_capacity = 0;
    if (device->pipeline_lock_made) {
        pthread_cond_destroy(&device->pipeline_built);
        pthread_mutex_destroy(&device->pipeline_lock);
        device->pipeline_lock_made = false;
    }
}

t2g_pipeline_stats t2g_device_pipeline_stats(t2g_device *device) {
    pthread_mutex_lock(&device->pipeline_lock);
    t2g_pipeline_stats stats = device->pipeline_stats;
    pthread_mutex_unlock(&device->pipeline_lock);
    return stats;
}

void t2g_device_test_hold_pipelines(t2g_device *device, uint32_t waiters) {
    pthread_mutex_lock(&device->pipeline_lock);
    device->test_hold_waiters = waiters;
    pthread_mutex_unlock(&device->pipeline_lock);
}
