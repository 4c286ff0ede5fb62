/* Physical devices: enumerating them and describing what each supports. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coopmat_khr.h"
#include "shaders.h"
#include "vk_internal.h"

static t2g_device_kind device_kind(VkPhysicalDeviceType type) {
    switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return T2G_DEVICE_DISCRETE_GPU;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return T2G_DEVICE_INTEGRATED_GPU;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return T2G_DEVICE_VIRTUAL_GPU;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return T2G_DEVICE_CPU;
    default: return T2G_DEVICE_OTHER;
    }
}

static const char *kind_name(t2g_device_kind kind) {
    static const char *const names[] = {"other", "CPU", "virtual GPU", "integrated GPU", "discrete GPU"};
    return names[kind];
}

static const char *vendor_name(uint32_t vendor_id) {
    switch (vendor_id) {
    case 0x10DE: return "NVIDIA";
    case 0x1002: return "AMD";
    case 0x8086: return "Intel";
    case 0x13B5: return "ARM";
    case 0x5143: return "Qualcomm";
    case 0x1010: return "ImgTec";
    case 0x106B: return "Apple";
    case 0x10005: return "Mesa";
    default: return "unknown";
    }
}

/* Vendors pack driverVersion differently; this follows what each documents. */
static void decode_driver_version(uint32_t vendor_id, uint32_t v, char *out, size_t size) {
    if (vendor_id == 0x10DE)
        snprintf(out, size, "%u.%u.%u.%u", v >> 22, (v >> 14) & 0xFF, (v >> 6) & 0xFF, v & 0x3F);
    else if (vendor_id == 0x8086)
        snprintf(out, size, "%u.%u", v >> 14, v & 0x3FFF);
    else
        snprintf(out, size, "%u.%u.%u", VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v),
                 VK_API_VERSION_PATCH(v));
}

static bool has_extension(const VkExtensionProperties *extensions, uint32_t count, const char *name) {
    for (uint32_t i = 0; i < count; i++)
        if (strcmp(extensions[i].extensionName, name) == 0) return true;
    return false;
}

static const char *component_name(uint32_t type) {
    switch (type) {
    case VK_COMPONENT_TYPE_FLOAT16_NV: return "f16";
    case VK_COMPONENT_TYPE_FLOAT32_NV: return "f32";
    case VK_COMPONENT_TYPE_FLOAT64_NV: return "f64";
    case VK_COMPONENT_TYPE_SINT8_NV: return "s8";
    case VK_COMPONENT_TYPE_SINT16_NV: return "s16";
    case VK_COMPONENT_TYPE_SINT32_NV: return "s32";
    case VK_COMPONENT_TYPE_SINT64_NV: return "s64";
    case VK_COMPONENT_TYPE_UINT8_NV: return "u8";
    case VK_COMPONENT_TYPE_UINT16_NV: return "u16";
    case VK_COMPONENT_TYPE_UINT32_NV: return "u32";
    case VK_COMPONENT_TYPE_UINT64_NV: return "u64";
    case T2G_COMPONENT_TYPE_BFLOAT16: return "bf16";
    default: return "other";
    }
}

static void describe_coopmat(VkInstance instance, VkPhysicalDevice device, t2g_device_info *info) {
    PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR get_shapes =
        (PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR)vkGetInstanceProcAddr(
            instance, "vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR");
    if (!get_shapes) return;
    VkCooperativeMatrixPropertiesKHR shapes[T2G_MAX_COOPMAT_SHAPES];
    for (uint32_t i = 0; i < T2G_MAX_COOPMAT_SHAPES; i++)
        shapes[i] = (VkCooperativeMatrixPropertiesKHR){.sType = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_KHR};
    uint32_t count = T2G_MAX_COOPMAT_SHAPES;
    if (get_shapes(device, &count, shapes) < 0) return;
    for (uint32_t i = 0; i < count; i++) {
        info->coopmat_shapes[i] = (t2g_coopmat_shape){
            .m = shapes[i].MSize, .n = shapes[i].NSize, .k = shapes[i].KSize,
            .a_type = component_name(shapes[i].AType), .b_type = component_name(shapes[i].BType),
            .c_type = component_name(shapes[i].CType), .result_type = component_name(shapes[i].ResultType),
            .subgroup_scope = shapes[i].scope == T2G_SCOPE_SUBGROUP,
        };
    }
    info->coopmat_shape_count = count;
}

/* t2g's cooperative-matrix kernels: the shader, the subgroup shape it multiplies on (A x B + C ->
 * result, M x N x K) and the flag of t2g_device_info that says a device runs it. Every kernel's
 * shader is compiled for Vulkan 1.3 (SPIR-V 1.6) by glslang, which puts it in the Vulkan memory
 * model, and reads and multiplies f16 (16-bit storage, shaderFloat16). */
static const struct {
    const char *shader;
    uint32_t m, n, k;
    const char *a_type, *b_type, *c_type, *result_type;
    size_t flag; /* offsetof(t2g_device_info, the bool) */
} coopmat_kernels[] = {
    {"matmul_coopmat@f16_f16", 16, 16, 16, "f16", "f16", "f32", "f32", offsetof(t2g_device_info, coopmat_f16_16x16x16)},
};

static bool same_type(const char *reported, const char *wanted) { return reported && strcmp(reported, wanted) == 0; }

static bool reports_shape(const t2g_device_info *info, size_t kernel) {
    for (uint32_t i = 0; i < info->coopmat_shape_count && i < T2G_MAX_COOPMAT_SHAPES; i++) {
        const t2g_coopmat_shape *s = &info->coopmat_shapes[i];
        bool size = s->m == coopmat_kernels[kernel].m && s->n == coopmat_kernels[kernel].n && s->k == coopmat_kernels[kernel].k;
        bool types = same_type(s->a_type, coopmat_kernels[kernel].a_type) &&
                     same_type(s->b_type, coopmat_kernels[kernel].b_type) &&
                     same_type(s->c_type, coopmat_kernels[kernel].c_type) &&
                     same_type(s->result_type, coopmat_kernels[kernel].result_type);
        if (s->subgroup_scope && size && types) return true;
    }
    return false;
}

void t2g_device_info_choose_coopmat(t2g_device_info *info) {
    bool features = info->cooperative_matrix && info->api_version >= VK_API_VERSION_1_3 && info->fp16 &&
                    info->storage_16bit && info->vulkan_memory_model;
    for (size_t i = 0; i < sizeof coopmat_kernels / sizeof coopmat_kernels[0]; i++) {
        bool *flag = (bool *)((char *)info + coopmat_kernels[i].flag);
        *flag = features && reports_shape(info, i) && t2g_shader_find(coopmat_kernels[i].shader) != NULL;
    }
}

uint32_t t2g_vk_compute_queue_family(VkPhysicalDevice device) {
    uint32_t count = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(device, &count, NULL);
    VkQueueFamilyProperties families[64];
    if (count > 64) count = 64;
    vkGetPhysicalDeviceQueueFamilyProperties(device, &count, families);
    /* A family with compute and graphics is the main one on every vendor; prefer it, since
     * it is the one with timestamps everywhere. */
    uint32_t compute_only = UINT32_MAX;
    for (uint32_t i = 0; i < count; i++) {
        if (!(families[i].queueFlags & VK_QUEUE_COMPUTE_BIT)) continue;
        if (families[i].queueFlags & VK_QUEUE_GRAPHICS_BIT) return i;
        if (compute_only == UINT32_MAX) compute_only = i;
    }
    return compute_only;
}

static void describe(VkInstance instance, VkPhysicalDevice device, uint32_t index, t2g_device_info *info) {
    memset(info, 0, sizeof *info);
    info->index = index;

    VkPhysicalDeviceProperties basic;
    vkGetPhysicalDeviceProperties(device, &basic);
    bool v12 = basic.apiVersion >= VK_API_VERSION_1_2;
    bool v13 = basic.apiVersion >= VK_API_VERSION_1_3;

    VkPhysicalDeviceMaintenance4Properties maintenance4 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_4_PROPERTIES};
    VkPhysicalDeviceSubgroupSizeControlProperties size_control = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES,
        .pNext = v13 ? &maintenance4 : NULL};
    VkPhysicalDeviceDriverProperties driver = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES,
                                               .pNext = v13 ? &size_control : NULL};
    VkPhysicalDeviceMaintenance3Properties maintenance3 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES,
                                                           .pNext = v12 ? &driver : NULL};
    VkPhysicalDeviceSubgroupProperties subgroup = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES,
                                                   .pNext = &maintenance3};
    VkPhysicalDeviceProperties2 properties = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &subgroup};
    vkGetPhysicalDeviceProperties2(device, &properties);
    const VkPhysicalDeviceLimits *limits = &properties.properties.limits;

    snprintf(info->name, sizeof info->name, "%s", basic.deviceName);
    info->kind = device_kind(basic.deviceType);
    info->type = kind_name(info->kind);
    info->vendor_id = basic.vendorID;
    info->device_id = basic.deviceID;
    info->vendor = vendor_name(basic.vendorID);
    if (v12) {
        snprintf(info->driver_name, sizeof info->driver_name, "%s", driver.driverName);
        snprintf(info->driver_info, sizeof info->driver_info, "%s", driver.driverInfo);
    }
    decode_driver_version(basic.vendorID, basic.driverVersion, info->driver_version, sizeof info->driver_version);
    info->api_version = basic.apiVersion;
    snprintf(info->api_version_string, sizeof info->api_version_string, "%u.%u.%u",
             VK_API_VERSION_MAJOR(basic.apiVersion), VK_API_VERSION_MINOR(basic.apiVersion),
             VK_API_VERSION_PATCH(basic.apiVersion));
    info->subgroup_size = subgroup.subgroupSize;
    info->min_subgroup_size = v13 ? size_control.minSubgroupSize : subgroup.subgroupSize;
    info->max_subgroup_size = v13 ? size_control.maxSubgroupSize : subgroup.subgroupSize;
    info->max_shared_memory_bytes = limits->maxComputeSharedMemorySize;
    info->max_storage_buffer_range = limits->maxStorageBufferRange;
    info->max_allocation_bytes = maintenance3.maxMemoryAllocationSize;
    info->max_buffer_bytes = v13 ? maintenance4.maxBufferSize : maintenance3.maxMemoryAllocationSize;
    info->max_push_constant_bytes = limits->maxPushConstantsSize;
    info->max_workgroup_invocations = limits->maxComputeWorkGroupInvocations;
    for (int i = 0; i < 3; i++) info->max_workgroup_count[i] = limits->maxComputeWorkGroupCount[i];
    info->min_storage_buffer_offset_alignment = (uint32_t)limits->minStorageBufferOffsetAlignment;
    info->min_texel_buffer_offset_alignment = (uint32_t)limits->minTexelBufferOffsetAlignment;
    info->max_texel_buffer_elements = limits->maxTexelBufferElements;
    info->uniform_texel_quads = true;
    for (int texel = T2G_TEXEL_NONE + 1; texel < T2G_TEXEL_COUNT; texel++) {
        VkFormatProperties format;
        vkGetPhysicalDeviceFormatProperties(device, t2g_texel_format(texel), &format);
        if (!(format.bufferFeatures & VK_FORMAT_FEATURE_UNIFORM_TEXEL_BUFFER_BIT)) info->uniform_texel_quads = false;
    }
    info->timestamp_period_ns = limits->timestampPeriod;

    VkPhysicalDeviceMemoryProperties memory;
    vkGetPhysicalDeviceMemoryProperties(device, &memory);
    for (uint32_t i = 0; i < memory.memoryHeapCount; i++)
        if (memory.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) info->device_local_bytes += memory.memoryHeaps[i].size;
    t2g_vk_apply_quirks(v12 ? driver.driverID : (VkDriverId)0, info);

    uint32_t extension_count = 0;
    vkEnumerateDeviceExtensionProperties(device, NULL, &extension_count, NULL);
    VkExtensionProperties *extensions = calloc(extension_count ? extension_count : 1, sizeof *extensions);
    if (extensions && vkEnumerateDeviceExtensionProperties(device, NULL, &extension_count, extensions) < 0)
        extension_count = 0;

    bool coopmat_extension = false;
    if (extensions) {
        info->bf16 = has_extension(extensions, extension_count, VK_KHR_SHADER_BFLOAT16_EXTENSION_NAME);
        coopmat_extension = has_extension(extensions, extension_count, VK_KHR_COOPERATIVE_MATRIX_EXTENSION_NAME);
    }
    free(extensions);
    if (v12) {
        VkPhysicalDeviceCooperativeMatrixFeaturesKHR coopmat = {
            .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_KHR};
        VkPhysicalDeviceVulkan11Features features11 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
                                                       .pNext = coopmat_extension ? &coopmat : NULL};
        VkPhysicalDeviceVulkan12Features features12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                                       .pNext = &features11};
        VkPhysicalDeviceFeatures2 features = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &features12};
        vkGetPhysicalDeviceFeatures2(device, &features);
        info->fp16 = features12.shaderFloat16;
        info->int8 = features12.shaderInt8;
        info->fp64 = features.features.shaderFloat64;
        info->storage_16bit = features11.storageBuffer16BitAccess;
        info->storage_8bit = features12.storageBuffer8BitAccess;
        info->vulkan_memory_model = features12.vulkanMemoryModel;
        info->cooperative_matrix = coopmat_extension && coopmat.cooperativeMatrix;
    }
    if (info->cooperative_matrix) describe_coopmat(instance, device, info);
    t2g_device_info_choose_coopmat(info);

    uint32_t family = t2g_vk_compute_queue_family(device);
    if (family != UINT32_MAX) {
        uint32_t count = 0;
        vkGetPhysicalDeviceQueueFamilyProperties(device, &count, NULL);
        VkQueueFamilyProperties families[64];
        if (count > 64) count = 64;
        vkGetPhysicalDeviceQueueFamilyProperties(device, &count, families);
        info->timestamps = families[family].timestampValidBits > 0 && limits->timestampPeriod > 0;
    }

    info->usable = v12 && family != UINT32_MAX;
    if (!v12)
        snprintf(info->unusable_reason, sizeof info->unusable_reason,
                 "Vulkan %s; t2g needs 1.2 or newer", info->api_version_string);
    else if (family == UINT32_MAX)
        snprintf(info->unusable_reason, sizeof info->unusable_reason, "no compute queue");
}

t2g_status t2g_vk_enumerate(VkInstance instance, VkPhysicalDevice **devices, t2g_device_info **infos,
                            uint32_t *count, t2g_error *err) {
    *devices = NULL;
    *infos = NULL;
    *count = 0;
    uint32_t n = 0;
    VkResult result = vkEnumeratePhysicalDevices(instance, &n, NULL);
    if (result != VK_SUCCESS) return t2g_vk_fail(err, result, "listing the Vulkan devices");
    if (n == 0) return T2G_OK;
    *devices = calloc(n, sizeof **devices);
    *infos = calloc(n, sizeof **infos);
    if (!*devices || !*infos) {
        free(*devices);
        free(*infos);
        *devices = NULL;
        *infos = NULL;
        return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory listing %u Vulkan devices", n);
    }
    result = vkEnumeratePhysicalDevices(instance, &n, *devices);
    if (result < 0) {
        free(*devices);
        free(*infos);
        *devices = NULL;
        *infos = NULL;
        return t2g_vk_fail(err, result, "listing the Vulkan devices");
    }
    for (uint32_t i = 0; i < n; i++) describe(instance, (*devices)[i], i, &(*infos)[i]);
    *count = n;
    return T2G_OK;
}

t2g_status t2g_list_devices(t2g_device_info **infos, uint32_t *count, t2g_error *err) {
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    t2g_status status = t2g_vk_instance_create(NULL, &instance, &messenger, err);
    if (status) return status;
    VkPhysicalDevice *devices = NULL;
    status = t2g_vk_enumerate(instance, &devices, infos, count, err);
    free(devices);
    t2g_vk_instance_destroy(instance, messenger);
    return status;
}
