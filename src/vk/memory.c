/* Arenas (one device allocation each), the tensors carved from them, and synchronous
 * uploads and downloads through a host-visible staging buffer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk_internal.h"

#define STAGING_CHUNK_BYTES (64ull << 20)

t2g_status t2g_vk_memory_type(const t2g_device *device, uint32_t allowed_types, VkMemoryPropertyFlags required,
                              VkMemoryPropertyFlags preferred, uint32_t *type_index, t2g_error *err) {
    const VkPhysicalDeviceMemoryProperties *memory = &device->memory_properties;
    int fallback = -1;
    for (uint32_t i = 0; i < memory->memoryTypeCount; i++) {
        if (!(allowed_types & (1u << i))) continue;
        VkMemoryPropertyFlags flags = memory->memoryTypes[i].propertyFlags;
        if ((flags & required) != required) continue;
        if ((flags & preferred) == preferred) {
            *type_index = i;
            return T2G_OK;
        }
        if (fallback < 0) fallback = (int)i;
    }
    if (fallback < 0)
        return t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s has no memory type with properties 0x%x for a buffer",
                        device->info.name, (unsigned)required);
    *type_index = (uint32_t)fallback;
    return T2G_OK;
}

/* A buffer with its own memory; used by arenas and by the staging buffer. */
static t2g_status create_buffer(t2g_device *device, uint64_t bytes, VkMemoryPropertyFlags required,
                                VkMemoryPropertyFlags preferred, const char *what, VkBuffer *buffer,
                                VkDeviceMemory *memory, void **mapped, t2g_error *err) {
    *buffer = VK_NULL_HANDLE;
    *memory = VK_NULL_HANDLE;
    *mapped = NULL;
    VkBufferCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = bytes,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
                 VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkResult result = vkCreateBuffer(device->device, &info, NULL, buffer);
    if (result != VK_SUCCESS) return t2g_vk_fail(err, result, "creating a %llu-byte buffer for %s", (unsigned long long)bytes, what);
    VkMemoryRequirements requirements;
    vkGetBufferMemoryRequirements(device->device, *buffer, &requirements);
    uint32_t type = 0; // set by t2g_vk_memory_type on success; initialised for -O3's flow analysis
    t2g_status status = t2g_vk_memory_type(device, requirements.memoryTypeBits, required, preferred, &type, err);
    if (status) return status;
    VkMemoryAllocateInfo alloc = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = requirements.size,
        .memoryTypeIndex = type,
    };
    result = vkAllocateMemory(device->device, &alloc, NULL, memory);
    if (result != VK_SUCCESS)
        return t2g_vk_fail(err, result, "allocating %llu bytes of device memory for %s", (unsigned long long)requirements.size, what);
    result = vkBindBufferMemory(device->device, *buffer, *memory, 0);
    if (result != VK_SUCCESS) return t2g_vk_fail(err, result, "binding memory to the buffer of %s", what);
    VkMemoryPropertyFlags flags = device->memory_properties.memoryTypes[type].propertyFlags;
    VkMemoryPropertyFlags mappable = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    if ((flags & mappable) == mappable) {
        result = vkMapMemory(device->device, *memory, 0, VK_WHOLE_SIZE, 0, mapped);
        if (result != VK_SUCCESS) return t2g_vk_fail(err, result, "mapping the memory of %s", what);
    }
    return T2G_OK;
}

static void destroy_buffer(t2g_device *device, VkBuffer buffer, VkDeviceMemory memory) {
    if (buffer) vkDestroyBuffer(device->device, buffer, NULL);
    if (memory) vkFreeMemory(device->device, memory, NULL);
}

static uint64_t round_up(uint64_t value, uint64_t multiple) { return (value + multiple - 1) / multiple * multiple; }

t2g_status t2g_arena_create(t2g_device *device, uint64_t capacity, const char *name, t2g_arena **out, t2g_error *err) {
    *out = NULL;
    const t2g_device_info *info = &device->info;
    uint64_t alignment = info->min_storage_buffer_offset_alignment > T2G_TENSOR_ALIGNMENT ? info->min_storage_buffer_offset_alignment
                                                                                        : T2G_TENSOR_ALIGNMENT;
    capacity = round_up(capacity ? capacity : 1, alignment);
    if (capacity > info->max_allocation_bytes || capacity > info->max_buffer_bytes)
        return t2g_fail(err, T2G_ERR_TOO_LARGE,
                        "arena '%s' of %llu bytes exceeds what %s allows in one allocation (%llu bytes)", name,
                        (unsigned long long)capacity, info->name,
                        (unsigned long long)(info->max_allocation_bytes < info->max_buffer_bytes ? info->max_allocation_bytes
                                                                                                : info->max_buffer_bytes));
    t2g_arena *arena = calloc(1, sizeof *arena);
    if (!arena) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory creating arena '%s'", name);
    arena->device = device;
    snprintf(arena->name, sizeof arena->name, "%s", name);
    arena->capacity = capacity;
    arena->alignment = alignment;
    char what[96];
    snprintf(what, sizeof what, "arena '%s'", name);
    t2g_status status = create_buffer(device, capacity, 0, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, what, &arena->buffer,
                                      &arena->memory, &arena->mapped, err);
    if (status) {
        t2g_arena_destroy(arena);
        return status;
    }
    *out = arena;
    return T2G_OK;
}

void t2g_arena_destroy(t2g_arena *arena) {
    if (!arena) return;
    destroy_buffer(arena->device, arena->buffer, arena->memory);
    free(arena);
}

void t2g_arena_reset(t2g_arena *arena) { arena->used = 0; }
uint64_t t2g_arena_used_bytes(const t2g_arena *arena) { return arena->used; }
uint64_t t2g_arena_capacity_bytes(const t2g_arena *arena) { return arena->capacity; }
t2g_device *t2g_arena_device(const t2g_arena *arena) { return arena->device; }

t2g_status t2g_tensor_alloc(t2g_arena *arena, uint64_t bytes, t2g_tensor *tensor, t2g_error *err) {
    *tensor = (t2g_tensor){0};
    if (bytes == 0) return t2g_fail(err, T2G_ERR_ARGUMENT, "a tensor of 0 bytes was requested from arena '%s'", arena->name);
    uint64_t size = round_up(bytes, arena->alignment);
    if (size > arena->capacity - arena->used)
        return t2g_fail(err, T2G_ERR_MEMORY, "arena '%s' is full: %llu of %llu bytes used, %llu more requested",
                        arena->name, (unsigned long long)arena->used, (unsigned long long)arena->capacity,
                        (unsigned long long)bytes);
    *tensor = (t2g_tensor){.arena = arena, .offset = arena->used, .bytes = bytes};
    arena->used += size;
    return T2G_OK;
}

t2g_status t2g_tensor_alloc_f32(t2g_arena *arena, uint64_t count, t2g_tensor *tensor, t2g_error *err) {
    return t2g_tensor_alloc(arena, count * 4, tensor, err);
}

t2g_status t2g_tensor_alloc_typed(t2g_arena *arena, t2g_dtype dtype, uint64_t count, t2g_tensor *tensor,
                                  t2g_error *err) {
    uint32_t size = t2g_dtype_bytes(dtype);
    if (!size) return t2g_fail(err, T2G_ERR_ARGUMENT, "a tensor of an unknown element type (%d) was requested", (int)dtype);
    if (count > UINT64_MAX / size)
        return t2g_fail(err, T2G_ERR_TOO_LARGE, "a tensor of %llu %s elements is too large", (unsigned long long)count,
                        t2g_dtype_name(dtype));
    t2g_status status = t2g_tensor_alloc(arena, count * size, tensor, err);
    if (!status) tensor->dtype = dtype;
    return status;
}

uint64_t t2g_arena_bytes_for_typed(const t2g_typed_request *requests, size_t count) {
    uint64_t bytes = 0;
    for (size_t i = 0; i < count; i++)
        bytes += round_up(t2g_dtype_bytes(requests[i].dtype) * requests[i].count, T2G_TENSOR_ALIGNMENT);
    return bytes;
}

t2g_status t2g_arena_create_for_typed(t2g_device *device, const char *name, const t2g_typed_request *requests,
                                      size_t count, t2g_arena **arena, t2g_error *err) {
    t2g_status status = t2g_arena_create(device, t2g_arena_bytes_for_typed(requests, count), name, arena, err);
    for (size_t i = 0; i < count && !status; i++)
        status = t2g_tensor_alloc_typed(*arena, requests[i].dtype, requests[i].count, requests[i].tensor, err);
    return status;
}

uint64_t t2g_arena_bytes_for(const t2g_tensor_request *requests, size_t count) {
    uint64_t bytes = 0;
    for (size_t i = 0; i < count; i++) bytes += round_up(4 * requests[i].floats, T2G_TENSOR_ALIGNMENT);
    return bytes;
}

t2g_status t2g_arena_create_for(t2g_device *device, const char *name, const t2g_tensor_request *requests, size_t count,
                                t2g_arena **arena, t2g_error *err) {
    t2g_status status = t2g_arena_create(device, t2g_arena_bytes_for(requests, count), name, arena, err);
    for (size_t i = 0; i < count && !status; i++) status = t2g_tensor_alloc_f32(*arena, requests[i].floats, requests[i].tensor, err);
    return status;
}

/* ---- transfers ---- */

static t2g_status ensure_staging(t2g_device *device, uint64_t bytes, t2g_error *err) {
    if (device->staging_bytes >= bytes) return T2G_OK;
    destroy_buffer(device, device->staging_buffer, device->staging_memory);
    device->staging_buffer = VK_NULL_HANDLE;
    device->staging_memory = VK_NULL_HANDLE;
    device->staging_bytes = 0;
    VkMemoryPropertyFlags mappable = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    t2g_status status = create_buffer(device, bytes, mappable, VK_MEMORY_PROPERTY_HOST_CACHED_BIT, "the staging buffer",
                                      &device->staging_buffer, &device->staging_memory, &device->staging_mapped, err);
    if (status) return status;
    device->staging_bytes = bytes;
    return T2G_OK;
}

/* Copies `bytes` between the staging buffer and a tensor, on the GPU, and waits. */
static t2g_status staged_copy(t2g_device *device, t2g_tensor tensor, uint64_t tensor_offset, uint64_t bytes,
                              bool to_tensor, t2g_error *err) {
    VkCommandBuffer commands = device->transfer_commands;
    VkResult result = vkResetCommandBuffer(commands, 0);
    if (result != VK_SUCCESS) return t2g_vk_fail(err, result, "resetting the transfer command buffer");
    VkCommandBufferBeginInfo begin = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    result = vkBeginCommandBuffer(commands, &begin);
    if (result != VK_SUCCESS) return t2g_vk_fail(err, result, "beginning the transfer command buffer");
    VkBufferCopy region = {.size = bytes};
    if (to_tensor) {
        region.dstOffset = tensor.offset + tensor_offset;
        vkCmdCopyBuffer(commands, device->staging_buffer, tensor.arena->buffer, 1, &region);
    } else {
        region.srcOffset = tensor.offset + tensor_offset;
        vkCmdCopyBuffer(commands, tensor.arena->buffer, device->staging_buffer, 1, &region);
    }
    /* Make the transfer's writes visible to the host (downloads) and to later work. */
    VkMemoryBarrier barrier = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                               .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                               .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    vkCmdPipelineBarrier(commands, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &barrier, 0, NULL, 0, NULL);
    result = vkEndCommandBuffer(commands);
    if (result != VK_SUCCESS) return t2g_vk_fail(err, result, "ending the transfer command buffer");
    VkSubmitInfo submit = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &commands};
    result = vkQueueSubmit(device->queue, 1, &submit, device->transfer_fence);
    if (result != VK_SUCCESS) return t2g_vk_fail(err, result, "submitting a transfer of %llu bytes", (unsigned long long)bytes);
    result = vkWaitForFences(device->device, 1, &device->transfer_fence, VK_TRUE, UINT64_MAX);
    if (result != VK_SUCCESS) return t2g_vk_fail(err, result, "waiting for a transfer of %llu bytes", (unsigned long long)bytes);
    result = vkResetFences(device->device, 1, &device->transfer_fence);
    if (result != VK_SUCCESS) return t2g_vk_fail(err, result, "resetting the transfer fence");
    return T2G_OK;
}

static t2g_status check_transfer(t2g_tensor tensor, uint64_t bytes, const char *what, t2g_error *err) {
    if (!tensor.arena) return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: the tensor is empty", what);
    if (bytes > tensor.bytes)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s of %llu bytes: the tensor holds only %llu bytes", what,
                        (unsigned long long)bytes, (unsigned long long)tensor.bytes);
    return T2G_OK;
}

static t2g_status transfer(t2g_tensor tensor, void *host, uint64_t bytes, bool to_tensor, t2g_error *err) {
    const char *what = to_tensor ? "upload" : "download";
    t2g_status status = check_transfer(tensor, bytes, what, err);
    if (status) return status;
    t2g_arena *arena = tensor.arena;
    char *mapped = arena->mapped;
    if (mapped) {
        if (to_tensor) memcpy(mapped + tensor.offset, host, bytes);
        else memcpy(host, mapped + tensor.offset, bytes);
        return T2G_OK;
    }
    t2g_device *device = arena->device;
    uint64_t chunk = bytes < STAGING_CHUNK_BYTES ? bytes : STAGING_CHUNK_BYTES;
    status = ensure_staging(device, chunk, err);
    if (status) return status;
    for (uint64_t done = 0; done < bytes; done += chunk) {
        uint64_t n = bytes - done < chunk ? bytes - done : chunk;
        if (to_tensor) memcpy(device->staging_mapped, (char *)host + done, n);
        status = staged_copy(device, tensor, done, n, to_tensor, err);
        if (status) return status;
        if (!to_tensor) memcpy((char *)host + done, device->staging_mapped, n);
    }
    return T2G_OK;
}

t2g_status t2g_tensor_upload(t2g_tensor tensor, const void *source, uint64_t bytes, t2g_error *err) {
    return transfer(tensor, (void *)source, bytes, true, err);
}

t2g_status t2g_tensor_download(t2g_tensor tensor, void *destination, uint64_t bytes, t2g_error *err) {
    return transfer(tensor, destination, bytes, false, err);
}

void t2g_transfer_destroy(t2g_device *device) {
    destroy_buffer(device, device->staging_buffer, device->staging_memory);
    if (device->transfer_fence) vkDestroyFence(device->device, device->transfer_fence, NULL);
    if (device->transfer_pool) vkDestroyCommandPool(device->device, device->transfer_pool, NULL);
}
