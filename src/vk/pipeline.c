/* Compute pipelines built from the embedded SPIR-V, one per (shader, specialization
 * constants), built on first use and kept for the device's lifetime. */
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "shaders.h"
#include "vk_internal.h"

const t2g_shader_blob *t2g_shader_find(const char *name) {
    for (size_t i = 0; i < t2g_shader_blob_count; i++)
        if (strcmp(t2g_shader_blobs[i]->name, name) == 0) return t2g_shader_blobs[i];
    return NULL;
}

static bool same_pipeline(const t2g_pipeline *p, const char *shader, const uint32_t *spec, uint32_t spec_count,
                          uint32_t binding_count) {
    return p->spec_count == spec_count && p->binding_count == binding_count && strcmp(p->shader, shader) == 0 &&
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
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
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

t2g_status t2g_pipeline_get(t2g_device *device, const char *shader, const uint32_t *spec, uint32_t spec_count,
                            uint32_t binding_count, const t2g_pipeline **out, t2g_error *err) {
    for (uint32_t i = 0; i < device->pipeline_count; i++)
        if (same_pipeline(device->pipelines[i], shader, spec, spec_count, binding_count)) {
            *out = device->pipelines[i];
            return T2G_OK;
        }
    const t2g_shader_blob *blob = t2g_shader_find(shader);
    if (!blob) return t2g_fail(err, T2G_ERR_ARGUMENT, "no shader named '%s' is embedded in t2g", shader);
    if (spec_count > T2G_MAX_SPEC_CONSTANTS || binding_count > T2G_MAX_BINDINGS)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "shader %s: %u specialization constants and %u bindings (at most %d and %d)",
                        shader, spec_count, binding_count, T2G_MAX_SPEC_CONSTANTS, T2G_MAX_BINDINGS);
    if (!t2g_grow(&device->pipelines, &device->pipeline_capacity, device->pipeline_count + 1ull,
                  sizeof *device->pipelines))
        return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory building pipeline %s", shader);
    t2g_pipeline *p = calloc(1, sizeof *p);
    if (!p) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory building pipeline %s", shader);
    p->shader = blob->name;
    p->spec_count = spec_count;
    if (spec_count) memcpy(p->spec, spec, spec_count * sizeof *spec);
    p->binding_count = binding_count;
    t2g_status status = create_layouts(device, p, err);
    if (!status) status = create_pipeline(device, p, blob, err);
    if (status) {
        destroy_pipeline(device, p);
        return status;
    }
    device->pipelines[device->pipeline_count++] = p;
    *out = p;
    return T2G_OK;
}

void t2g_pipelines_destroy(t2g_device *device) {
    for (uint32_t i = 0; i < device->pipeline_count; i++) destroy_pipeline(device, device->pipelines[i]);
    free(device->pipelines);
    device->pipelines = NULL;
    device->pipeline_count = device->pipeline_capacity = 0;
}
