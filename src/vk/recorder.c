/* The recorder: many dispatches in one command buffer, barriers only where memory is shared,
 * descriptor sets from pools reset at every submit, texel-buffer views destroyed at every
 * submit, GPU timestamps, and scratch memory. */
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "vk_internal.h"

#define SETS_PER_POOL 512
#define TEXELS_PER_POOL (SETS_PER_POOL * 2) /* few sets have texel bindings: a pool short of them moves on */
#define SCRATCH_MIN_BYTES (16ull << 20)
#define MAX_SCRATCH_ARENAS 16

typedef struct byte_range {
    VkBuffer buffer;
    uint64_t begin, end;
} byte_range;

typedef struct range_list {
    byte_range *items;
    size_t count, capacity;
} range_list;

struct t2g_recorder {
    t2g_device *device;
    VkCommandPool command_pool;
    VkCommandBuffer commands;
    VkFence fence;
    bool recording;
    t2g_status broken;              /* a Vulkan failure while recording: the recording is lost */
    char broken_message[T2G_ERROR_MESSAGE_BYTES];

    VkDescriptorPool *pools;        /* each SETS_PER_POOL sets; all reset at submit */
    uint32_t pool_count, pool_in_use;
    VkBufferView *views;            /* the texel bindings' views of this recording */
    size_t view_count, view_capacity;

    range_list written, read;       /* accessed since the last barrier */

    VkQueryPool queries;            /* two timestamps per timed dispatch */
    uint32_t timestamp_capacity, timed;
    const char **labels;
    t2g_timing *timings;
    uint32_t timing_count;

    t2g_arena *scratch[MAX_SCRATCH_ARENAS];
    uint32_t scratch_count;
    t2g_tensor shared_scratch;      /* t2g_recorder_shared_scratch's memory in this recording (no arena: none yet) */

    uint64_t dispatch_count, barrier_count;
};

/* ---- creation ---- */

t2g_status t2g_recorder_create(t2g_device *device, const t2g_recorder_options *options, t2g_recorder **out,
                               t2g_error *err) {
    *out = NULL;
    t2g_recorder *r = calloc(1, sizeof *r);
    if (!r) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory creating a recorder");
    r->device = device;
    t2g_status status = T2G_OK;
    VkCommandPoolCreateInfo pool = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = device->queue_family,
    };
    VkResult result = vkCreateCommandPool(device->device, &pool, NULL, &r->command_pool);
    if (result != VK_SUCCESS) status = t2g_vk_fail(err, result, "creating a recorder's command pool");
    if (!status) {
        VkCommandBufferAllocateInfo alloc = {
            .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
            .commandPool = r->command_pool,
            .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
            .commandBufferCount = 1,
        };
        result = vkAllocateCommandBuffers(device->device, &alloc, &r->commands);
        if (result != VK_SUCCESS) status = t2g_vk_fail(err, result, "allocating a recorder's command buffer");
    }
    if (!status) {
        VkFenceCreateInfo fence = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        result = vkCreateFence(device->device, &fence, NULL, &r->fence);
        if (result != VK_SUCCESS) status = t2g_vk_fail(err, result, "creating a recorder's fence");
    }
    uint32_t capacity = options ? options->timestamp_capacity : 0;
    if (!status && capacity) {
        if (!device->info.timestamps)
            status = t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s has no timestamps on its compute queue", device->info.name);
        r->labels = calloc(capacity, sizeof *r->labels);
        r->timings = calloc(capacity, sizeof *r->timings);
        if (!status && (!r->labels || !r->timings))
            status = t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for %u timings", capacity);
        if (!status) {
            VkQueryPoolCreateInfo info = {
                .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                .queryType = VK_QUERY_TYPE_TIMESTAMP,
                .queryCount = 2 * capacity,
            };
            result = vkCreateQueryPool(device->device, &info, NULL, &r->queries);
            if (result != VK_SUCCESS) status = t2g_vk_fail(err, result, "creating a pool of %u timestamp queries", 2 * capacity);
        }
        r->timestamp_capacity = capacity;
    }
    if (status) {
        t2g_recorder_destroy(r);
        return status;
    }
    *out = r;
    return T2G_OK;
}

/* The texel bindings' views of the recording (after it has run, or when it is lost). */
static void destroy_views(t2g_recorder *r) {
    for (size_t i = 0; i < r->view_count; i++) vkDestroyBufferView(r->device->device, r->views[i], NULL);
    r->view_count = 0;
}

void t2g_recorder_destroy(t2g_recorder *r) {
    if (!r) return;
    VkDevice device = r->device->device;
    if (r->recording) {
        vkEndCommandBuffer(r->commands);
        r->recording = false;
    }
    for (uint32_t i = 0; i < r->pool_count; i++) vkDestroyDescriptorPool(device, r->pools[i], NULL);
    free(r->pools);
    destroy_views(r);
    free(r->views);
    if (r->queries) vkDestroyQueryPool(device, r->queries, NULL);
    if (r->fence) vkDestroyFence(device, r->fence, NULL);
    if (r->command_pool) vkDestroyCommandPool(device, r->command_pool, NULL);
    for (uint32_t i = 0; i < r->scratch_count; i++) t2g_arena_destroy(r->scratch[i]);
    free(r->written.items);
    free(r->read.items);
    free(r->labels);
    free(r->timings);
    free(r);
}

t2g_device *t2g_recorder_device(const t2g_recorder *r) { return r->device; }
uint64_t t2g_recorder_dispatch_count(const t2g_recorder *r) { return r->dispatch_count; }
uint64_t t2g_recorder_barrier_count(const t2g_recorder *r) { return r->barrier_count; }

uint32_t t2g_recorder_timings(const t2g_recorder *r, const t2g_timing **timings) {
    *timings = r->timings;
    return r->timing_count;
}

/* ---- barriers ---- */

/* Everything before waits for, and is visible to, everything after (host reads included). */
static void full_barrier(VkCommandBuffer commands) {
    VkMemoryBarrier barrier = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT | VK_ACCESS_HOST_READ_BIT,
    };
    vkCmdPipelineBarrier(commands, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                         VK_PIPELINE_STAGE_ALL_COMMANDS_BIT | VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &barrier, 0, NULL, 0,
                         NULL);
}

static void compute_barrier(t2g_recorder *r) {
    VkMemoryBarrier barrier = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                         VK_ACCESS_TRANSFER_WRITE_BIT,
    };
    VkPipelineStageFlags stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    vkCmdPipelineBarrier(r->commands, stages, stages, 0, 1, &barrier, 0, NULL, 0, NULL);
    r->written.count = 0;
    r->read.count = 0;
    r->barrier_count++;
}

static bool overlaps(const range_list *list, byte_range range) {
    for (uint32_t i = 0; i < list->count; i++) {
        const byte_range *other = &list->items[i];
        if (other->buffer == range.buffer && other->begin < range.end && range.begin < other->end) return true;
    }
    return false;
}

static bool push_range(range_list *list, byte_range range) {
    if (!t2g_grow(&list->items, &list->capacity, list->count + 1, sizeof *list->items)) return false;
    list->items[list->count++] = range;
    return true;
}

static byte_range range_of(t2g_tensor tensor) {
    return (byte_range){tensor.arena->buffer, tensor.offset, tensor.offset + tensor.bytes};
}

/* Inserts a barrier if these accesses conflict with unsynchronized earlier ones, then notes
 * them. */
static t2g_status order_accesses(t2g_recorder *r, const t2g_binding *bindings, uint32_t count, t2g_error *err) {
    bool conflict = false;
    for (uint32_t i = 0; i < count && !conflict; i++) {
        byte_range range = range_of(bindings[i].tensor);
        if ((bindings[i].access & T2G_READ) && overlaps(&r->written, range)) conflict = true;
        if ((bindings[i].access & T2G_WRITE) && (overlaps(&r->written, range) || overlaps(&r->read, range))) conflict = true;
    }
    if (conflict) compute_barrier(r);
    for (uint32_t i = 0; i < count; i++) {
        byte_range range = range_of(bindings[i].tensor);
        bool ok = true;
        if (bindings[i].access & T2G_READ) ok = push_range(&r->read, range);
        if (ok && (bindings[i].access & T2G_WRITE)) ok = push_range(&r->written, range);
        if (!ok) return t2g_fail(err, T2G_ERR_MEMORY, "out of memory tracking the recorder's memory accesses");
    }
    return T2G_OK;
}

/* ---- recording ---- */

static void start_over(t2g_recorder *r);

/* The recording is lost: it ends at once, so that it holds no tensor its caller may free before
 * the failure reaches t2g_recorder_submit (which reports it). */
static t2g_status break_recording(t2g_recorder *r, t2g_status status, const t2g_error *err) {
    if (!r->broken) {
        r->broken = status;
        memcpy(r->broken_message, err->message, sizeof r->broken_message);
    }
    if (r->recording) {
        vkEndCommandBuffer(r->commands);
        start_over(r);
    }
    return status;
}

static t2g_status ensure_recording(t2g_recorder *r, t2g_error *err) {
    if (r->recording) return T2G_OK;
    VkCommandBufferBeginInfo begin = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    VkResult result = vkBeginCommandBuffer(r->commands, &begin);
    if (result != VK_SUCCESS) return t2g_vk_fail(err, result, "beginning a recording");
    r->recording = true;
    r->timed = 0;
    if (r->queries) vkCmdResetQueryPool(r->commands, r->queries, 0, 2 * r->timestamp_capacity);
    return T2G_OK;
}

static t2g_status allocate_set(t2g_recorder *r, VkDescriptorSetLayout layout, VkDescriptorSet *set, t2g_error *err) {
    VkDevice device = r->device->device;
    while (true) {
        if (r->pool_in_use == r->pool_count) {
            VkDescriptorPool *grown = realloc(r->pools, (r->pool_count + 1) * sizeof *grown);
            if (!grown) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for descriptor pools");
            r->pools = grown;
            VkDescriptorPoolSize sizes[] = {
                {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, SETS_PER_POOL * T2G_MAX_BINDINGS},
                {VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, TEXELS_PER_POOL},
            };
            VkDescriptorPoolCreateInfo info = {
                .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                .maxSets = SETS_PER_POOL,
                .poolSizeCount = 2,
                .pPoolSizes = sizes,
            };
            VkResult result = vkCreateDescriptorPool(device, &info, NULL, &r->pools[r->pool_count]);
            if (result != VK_SUCCESS) return t2g_vk_fail(err, result, "creating a descriptor pool");
            r->pool_count++;
        }
        VkDescriptorSetAllocateInfo alloc = {
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
            .descriptorPool = r->pools[r->pool_in_use],
            .descriptorSetCount = 1,
            .pSetLayouts = &layout,
        };
        VkResult result = vkAllocateDescriptorSets(device, &alloc, set);
        if (result == VK_SUCCESS) return T2G_OK;
        if (result != VK_ERROR_OUT_OF_POOL_MEMORY && result != VK_ERROR_FRAGMENTED_POOL)
            return t2g_vk_fail(err, result, "allocating a descriptor set");
        r->pool_in_use++; /* this pool is full: move on to the next */
    }
}

/* How binding i of a dispatch is seen (NONE: a storage buffer). */
static t2g_texel texel_of(const t2g_dispatch *d, uint32_t i) { return d->texels ? d->texels[i] : T2G_TEXEL_NONE; }

/* A texel binding's tensor: a format the device reads as a uniform texel buffer, a start on its
 * texel-buffer offset alignment, whole texels, and no more of them than one view holds. */
static t2g_status check_texel_binding(const t2g_recorder *r, const t2g_dispatch *d, uint32_t i, t2g_error *err) {
    const t2g_device_info *info = &r->device->info;
    const t2g_binding *b = &d->bindings[i];
    t2g_texel texel = texel_of(d, i);
    const char *kernel = d->label ? d->label : d->shader;
    uint32_t bytes = t2g_texel_bytes(texel);
    if (!bytes) return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: binding %u has no texel format %d", kernel, i, (int)texel);
    if (!info->uniform_texel_quads)
        return t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s: binding %u is a uniform texel buffer of %s, which %s does not "
                        "read (Vulkan requires it)", kernel, i, t2g_texel_name(texel), info->name);
    uint32_t alignment = info->min_texel_buffer_offset_alignment ? info->min_texel_buffer_offset_alignment : 1;
    uint64_t texels = b->tensor.bytes / bytes;
    if (b->tensor.offset % alignment || b->tensor.bytes % bytes || texels > info->max_texel_buffer_elements)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: binding %u, a texel view of %llu bytes at byte %llu of arena '%s': "
                        "needs a start on %u bytes, whole texels of %u bytes and at most %llu of them (%s)",
                        kernel, i, (unsigned long long)b->tensor.bytes, (unsigned long long)b->tensor.offset,
                        b->tensor.arena->name, alignment, bytes, (unsigned long long)info->max_texel_buffer_elements,
                        info->name);
    return T2G_OK;
}

static t2g_status check_dispatch(const t2g_recorder *r, const t2g_dispatch *d, t2g_error *err) {
    const t2g_device_info *info = &r->device->info;
    if (d->binding_count > T2G_MAX_BINDINGS || d->push_bytes > T2G_PUSH_CONSTANT_BYTES || d->push_bytes % 4)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: %u bindings and %u bytes of push constants (at most %d and %d, a multiple of 4)",
                        d->shader, d->binding_count, d->push_bytes, T2G_MAX_BINDINGS, T2G_PUSH_CONSTANT_BYTES);
    for (uint32_t i = 0; i < d->binding_count; i++) {
        const t2g_tensor *t = &d->bindings[i].tensor;
        if (!t->arena || t->bytes == 0)
            return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: binding %u has no tensor", d->shader, i);
        if (t->arena->device != r->device)
            return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: binding %u is a tensor of another device", d->shader, i);
        if (!texel_of(d, i) && t->bytes > info->max_storage_buffer_range)
            return t2g_fail(err, T2G_ERR_TOO_LARGE,
                            "%s: binding %u, a tensor of %llu bytes in arena '%s', exceeds the max storage-buffer range of "
                            "%s (%llu bytes), and this kernel does not split its tensors; use a smaller batch or model",
                            d->label ? d->label : d->shader, i, (unsigned long long)t->bytes, t->arena->name, info->name,
                            (unsigned long long)info->max_storage_buffer_range);
        if (texel_of(d, i)) {
            t2g_status status = check_texel_binding(r, d, i, err);
            if (status) return status;
        }
    }
    for (int i = 0; i < 3; i++)
        if (d->groups[i] > info->max_workgroup_count[i])
            return t2g_fail(err, T2G_ERR_TOO_LARGE, "%s: %u workgroups in dimension %d, beyond the device's %u", d->shader,
                            d->groups[i], i, info->max_workgroup_count[i]);
    return T2G_OK;
}

/* A view of a texel binding's tensor, kept until the recording is submitted or lost. */
static t2g_status create_view(t2g_recorder *r, const t2g_binding *b, t2g_texel texel, VkBufferView *view,
                              t2g_error *err) {
    if (!t2g_grow(&r->views, &r->view_capacity, r->view_count + 1, sizeof *r->views))
        return t2g_fail(err, T2G_ERR_MEMORY, "out of memory for the recorder's texel-buffer views");
    VkBufferViewCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
        .buffer = b->tensor.arena->buffer,
        .format = t2g_texel_format(texel),
        .offset = b->tensor.offset,
        .range = b->tensor.bytes,
    };
    VkResult result = vkCreateBufferView(r->device->device, &info, NULL, view);
    if (result != VK_SUCCESS)
        return t2g_vk_fail(err, result, "creating a %s view of %llu bytes of arena '%s'", t2g_texel_name(texel),
                           (unsigned long long)b->tensor.bytes, b->tensor.arena->name);
    r->views[r->view_count++] = *view;
    return T2G_OK;
}

/* The timestamps around a recorded command, while the recorder has room for them: time_begin
 * says whether this command is timed; time_end closes it under `label`. */
static bool time_begin(t2g_recorder *r, VkPipelineStageFlagBits stage) {
    bool timed = r->timed < r->timestamp_capacity;
    if (timed) vkCmdWriteTimestamp(r->commands, stage, r->queries, 2 * r->timed);
    return timed;
}

static void time_end(t2g_recorder *r, VkPipelineStageFlagBits stage, const char *label) {
    vkCmdWriteTimestamp(r->commands, stage, r->queries, 2 * r->timed + 1);
    r->labels[r->timed++] = label;
}

t2g_status t2g_record_dispatch(t2g_recorder *r, const t2g_dispatch *d, t2g_error *err) {
    t2g_status status = check_dispatch(r, d, err);
    if (status) return status;
    if (d->groups[0] == 0 || d->groups[1] == 0 || d->groups[2] == 0) return T2G_OK; /* nothing to do */
    uint32_t texel_bindings = 0;
    for (uint32_t i = 0; i < d->binding_count; i++)
        if (texel_of(d, i)) texel_bindings |= 1u << i;
    const t2g_pipeline *pipeline;
    status = t2g_pipeline_get(r->device, d->shader, d->spec, d->spec_count, d->binding_count, texel_bindings, &pipeline,
                              err);
    if (status) return status;
    status = ensure_recording(r, err);
    if (status) return break_recording(r, status, err);

    VkDescriptorSet set;
    status = allocate_set(r, pipeline->set_layout, &set, err);
    if (status) return break_recording(r, status, err);
    VkDescriptorBufferInfo buffers[T2G_MAX_BINDINGS];
    VkBufferView views[T2G_MAX_BINDINGS];
    VkWriteDescriptorSet writes[T2G_MAX_BINDINGS];
    for (uint32_t i = 0; i < d->binding_count; i++) {
        const t2g_tensor *t = &d->bindings[i].tensor;
        writes[i] = (VkWriteDescriptorSet){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstSet = set,
            .dstBinding = i,
            .descriptorCount = 1,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .pBufferInfo = &buffers[i],
        };
        buffers[i] = (VkDescriptorBufferInfo){.buffer = t->arena->buffer, .offset = t->offset, .range = t->bytes};
        if (texel_of(d, i)) {
            status = create_view(r, &d->bindings[i], texel_of(d, i), &views[i], err);
            if (status) return break_recording(r, status, err);
            writes[i].descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
            writes[i].pBufferInfo = NULL;
            writes[i].pTexelBufferView = &views[i];
        }
    }
    vkUpdateDescriptorSets(r->device->device, d->binding_count, writes, 0, NULL);

    status = order_accesses(r, d->bindings, d->binding_count, err);
    if (status) return break_recording(r, status, err);
    VkCommandBuffer commands = r->commands;
    vkCmdBindPipeline(commands, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline->pipeline);
    vkCmdBindDescriptorSets(commands, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline->layout, 0, 1, &set, 0, NULL);
    if (d->push_bytes) vkCmdPushConstants(commands, pipeline->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, d->push_bytes, d->push);
    bool timed = time_begin(r, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT);
    vkCmdDispatch(commands, d->groups[0], d->groups[1], d->groups[2]);
    if (timed) time_end(r, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, d->label ? d->label : pipeline->shader);
    r->dispatch_count++;
    return T2G_OK;
}

t2g_status t2g_record_update(t2g_recorder *r, t2g_tensor tensor, const void *data, uint32_t bytes, t2g_error *err) {
    if (!tensor.arena || bytes == 0 || bytes > 65536 || bytes % 4 || bytes > tensor.bytes)
        return t2g_fail(err, T2G_ERR_ARGUMENT,
                        "a recorded update of %u bytes into a tensor of %llu bytes (1 to 65536 bytes, a multiple of 4, "
                        "within the tensor)",
                        bytes, (unsigned long long)tensor.bytes);
    t2g_status status = ensure_recording(r, err);
    if (status) return break_recording(r, status, err);
    t2g_tensor written = tensor;
    written.bytes = bytes;
    t2g_binding binding = {written, T2G_WRITE};
    status = order_accesses(r, &binding, 1, err);
    if (status) return break_recording(r, status, err);
    vkCmdUpdateBuffer(r->commands, tensor.arena->buffer, tensor.offset, bytes, data);
    return T2G_OK;
}

t2g_status t2g_record_fill(t2g_recorder *r, t2g_tensor tensor, uint32_t word, const char *label, t2g_error *err) {
    if (!tensor.arena || tensor.bytes == 0 || tensor.bytes % 4 || tensor.offset % 4)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: a fill of %llu bytes at byte %llu (at least 4 bytes, offset and size "
                        "multiples of 4)", label, (unsigned long long)tensor.bytes, (unsigned long long)tensor.offset);
    if (tensor.arena->device != r->device)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: a tensor of another device", label);
    t2g_status status = ensure_recording(r, err);
    if (status) return break_recording(r, status, err);
    t2g_binding binding = {tensor, T2G_WRITE};
    status = order_accesses(r, &binding, 1, err);
    if (status) return break_recording(r, status, err);
    bool timed = time_begin(r, VK_PIPELINE_STAGE_TRANSFER_BIT);
    vkCmdFillBuffer(r->commands, tensor.arena->buffer, tensor.offset, tensor.bytes, word);
    if (timed) time_end(r, VK_PIPELINE_STAGE_TRANSFER_BIT, label);
    r->dispatch_count++;
    return T2G_OK;
}

/* ---- scratch ---- */

t2g_status t2g_recorder_scratch(t2g_recorder *r, uint64_t bytes, t2g_tensor *tensor, t2g_error *err) {
    for (uint32_t i = 0; i < r->scratch_count; i++) {
        t2g_arena *arena = r->scratch[i];
        if (t2g_arena_capacity_bytes(arena) - t2g_arena_used_bytes(arena) >= bytes + arena->alignment)
            return t2g_tensor_alloc(arena, bytes, tensor, err);
    }
    if (r->scratch_count == MAX_SCRATCH_ARENAS)
        return t2g_fail(err, T2G_ERR_MEMORY, "the recorder's scratch memory is exhausted (%d arenas); submit more often",
                        MAX_SCRATCH_ARENAS);
    uint64_t capacity = 2 * bytes > SCRATCH_MIN_BYTES ? 2 * bytes : SCRATCH_MIN_BYTES;
    if (capacity > r->device->info.max_allocation_bytes) capacity = r->device->info.max_allocation_bytes;
    t2g_status status = t2g_arena_create(r->device, capacity, "recorder scratch", &r->scratch[r->scratch_count], err);
    if (status) return status;
    return t2g_tensor_alloc(r->scratch[r->scratch_count++], bytes, tensor, err);
}

t2g_status t2g_recorder_shared_scratch(t2g_recorder *r, uint64_t bytes, t2g_tensor *tensor, t2g_error *err) {
    if (!r->shared_scratch.arena || r->shared_scratch.bytes < bytes) {
        t2g_status status = t2g_recorder_scratch(r, bytes, &r->shared_scratch, err);
        if (status) {
            r->shared_scratch = (t2g_tensor){0};
            return status;
        }
    }
    *tensor = r->shared_scratch;
    tensor->bytes = bytes;
    return T2G_OK;
}

/* ---- submission ---- */

static t2g_status read_timings(t2g_recorder *r, t2g_error *err) {
    r->timing_count = 0;
    if (!r->timed) return T2G_OK;
    uint64_t *stamps = malloc(2 * r->timed * sizeof *stamps);
    if (!stamps) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory reading timestamps");
    VkResult result = vkGetQueryPoolResults(r->device->device, r->queries, 0, 2 * r->timed, 2 * r->timed * sizeof *stamps,
                                            stamps, sizeof *stamps, VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
    if (result != VK_SUCCESS) {
        free(stamps);
        return t2g_vk_fail(err, result, "reading %u timestamps", 2 * r->timed);
    }
    uint32_t bits = r->device->timestamp_valid_bits;
    uint64_t mask = bits >= 64 ? ~0ull : (1ull << bits) - 1;
    for (uint32_t i = 0; i < r->timed; i++) {
        uint64_t ticks = ((stamps[2 * i + 1] & mask) - (stamps[2 * i] & mask)) & mask;
        r->timings[i] = (t2g_timing){r->labels[i], (double)ticks * r->device->info.timestamp_period_ns * 1e-6};
    }
    r->timing_count = r->timed;
    free(stamps);
    return T2G_OK;
}

static void start_over(t2g_recorder *r) {
    vkResetCommandBuffer(r->commands, 0);
    for (uint32_t i = 0; i < r->pool_count; i++) vkResetDescriptorPool(r->device->device, r->pools[i], 0);
    r->pool_in_use = 0;
    destroy_views(r);
    r->written.count = r->read.count = 0;
    r->recording = false;
    r->timed = 0;
    for (uint32_t i = 0; i < r->scratch_count; i++) t2g_arena_reset(r->scratch[i]);
    r->shared_scratch = (t2g_tensor){0};
}

t2g_status t2g_recorder_submit(t2g_recorder *r, t2g_error *err) {
    if (r->broken) {
        t2g_status status = t2g_fail(err, r->broken, "the recording was lost: %s", r->broken_message);
        if (r->recording) vkEndCommandBuffer(r->commands);
        start_over(r);
        r->broken = T2G_OK;
        return status;
    }
    if (!r->recording) return T2G_OK;
    full_barrier(r->commands);
    VkResult result = vkEndCommandBuffer(r->commands);
    t2g_status status = T2G_OK;
    if (result != VK_SUCCESS) status = t2g_vk_fail(err, result, "ending a recording");
    if (!status) {
        VkSubmitInfo submit = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &r->commands};
        result = vkQueueSubmit(r->device->queue, 1, &submit, r->fence);
        if (result != VK_SUCCESS) status = t2g_vk_fail(err, result, "submitting a recording");
    }
    if (!status) {
        result = vkWaitForFences(r->device->device, 1, &r->fence, VK_TRUE, UINT64_MAX);
        if (result != VK_SUCCESS) status = t2g_vk_fail(err, result, "waiting for a recording to finish");
        VkResult reset = vkResetFences(r->device->device, 1, &r->fence);
        if (!status && reset != VK_SUCCESS) status = t2g_vk_fail(err, reset, "resetting a recorder's fence");
    }
    if (!status) status = read_timings(r, err);
    start_over(r);
    return status;
}
