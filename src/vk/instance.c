/* The Vulkan loader (through volk), the instance, and the validation layer's messenger. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "vk_internal.h"

#define VALIDATION_LAYER "VK_LAYER_KHRONOS_validation"

/* Whether the library volk will open has the loader's entry point: Debian 12's volk (header
 * version 239) calls it without checking, so a broken libvulkan.so.1 would crash it. */
static bool loader_has_entry_point(void) {
    const char *names[] = {"libvulkan.so.1", "libvulkan.so"};
    for (int i = 0; i < 2; i++) {
        void *module = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (!module) continue;
        bool found = dlsym(module, "vkGetInstanceProcAddr") != NULL;
        dlclose(module);
        return found;
    }
    return false;
}

t2g_status t2g_vk_load(t2g_error *err) {
    static bool loaded = false;
    if (loaded) return T2G_OK;
    if (!loader_has_entry_point() || volkInitialize() != VK_SUCCESS)
        return t2g_fail(err, T2G_ERR_NO_LOADER,
                        "no usable Vulkan loader (libvulkan.so.1 could not be loaded). Install a "
                        "loader and a driver; on Debian/Ubuntu, 'apt install libvulkan1 "
                        "mesa-vulkan-drivers' gives one, with a CPU device (lavapipe) if there "
                        "is no GPU");
    loaded = true;
    return T2G_OK;
}

static VKAPI_ATTR VkBool32 VKAPI_CALL on_validation_message(
    VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT types,
    const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
    (void)types;
    t2g_validation *validation = user;
    const char *level = severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT ? "error" : "warning";
    char message[T2G_ERROR_MESSAGE_BYTES];
    snprintf(message, sizeof message, "validation %s: %s", level, data->pMessage ? data->pMessage : "");
    if (validation->messages == 0)
        memcpy(validation->first_message, message, sizeof message);
    validation->messages++;
    if (validation->log) validation->log(validation->log_user, message);
    return VK_FALSE;
}

static bool layer_available(const char *name) {
    uint32_t count = 0;
    if (vkEnumerateInstanceLayerProperties(&count, NULL) != VK_SUCCESS) return false;
    VkLayerProperties layers[256];
    if (count > 256) count = 256;
    if (vkEnumerateInstanceLayerProperties(&count, layers) < 0) return false;
    for (uint32_t i = 0; i < count; i++)
        if (strcmp(layers[i].layerName, name) == 0) return true;
    return false;
}

static bool instance_extension_available(const char *name) {
    uint32_t count = 0;
    if (vkEnumerateInstanceExtensionProperties(NULL, &count, NULL) != VK_SUCCESS) return false;
    VkExtensionProperties extensions[256];
    if (count > 256) count = 256;
    if (vkEnumerateInstanceExtensionProperties(NULL, &count, extensions) < 0) return false;
    for (uint32_t i = 0; i < count; i++)
        if (strcmp(extensions[i].extensionName, name) == 0) return true;
    return false;
}

static VkDebugUtilsMessengerCreateInfoEXT messenger_info(t2g_validation *validation) {
    return (VkDebugUtilsMessengerCreateInfoEXT){
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = on_validation_message,
        .pUserData = validation,
    };
}

t2g_status t2g_vk_instance_create(t2g_validation *validation, VkInstance *instance,
                                  VkDebugUtilsMessengerEXT *messenger, t2g_error *err) {
    *instance = VK_NULL_HANDLE;
    *messenger = VK_NULL_HANDLE;
    t2g_status status = t2g_vk_load(err);
    if (status) return status;
    if (volkGetInstanceVersion() < VK_API_VERSION_1_1)
        return t2g_fail(err, T2G_ERR_NO_LOADER,
                        "the Vulkan loader is older than 1.1; t2g needs a loader of Vulkan 1.2 or newer");

    const char *layers[1];
    const char *extensions[2];
    uint32_t layer_count = 0, extension_count = 0;
    bool validate = validation && validation->enabled;
    if (validate) {
        if (!layer_available(VALIDATION_LAYER))
            return t2g_fail(err, T2G_ERR_UNSUPPORTED,
                            "validation was requested (T2G_VALIDATE=1) but the layer %s is not "
                            "installed; on Debian/Ubuntu: apt install vulkan-validationlayers",
                            VALIDATION_LAYER);
        layers[layer_count++] = VALIDATION_LAYER;
        extensions[extension_count++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    }
    VkInstanceCreateFlags flags = 0;
    if (instance_extension_available(VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME)) {
        extensions[extension_count++] = VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME;
        flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
    }

    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "t2g",
        .pEngineName = "t2g",
        .apiVersion = VK_API_VERSION_1_3,
    };
    VkDebugUtilsMessengerCreateInfoEXT during_creation = validate ? messenger_info(validation)
                                                                  : (VkDebugUtilsMessengerCreateInfoEXT){0};
    VkInstanceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pNext = validate ? &during_creation : NULL,
        .flags = flags,
        .pApplicationInfo = &app,
        .enabledLayerCount = layer_count,
        .ppEnabledLayerNames = layers,
        .enabledExtensionCount = extension_count,
        .ppEnabledExtensionNames = extensions,
    };
    VkResult result = vkCreateInstance(&info, NULL, instance);
    if (result == VK_ERROR_INCOMPATIBLE_DRIVER)
        return t2g_fail(err, T2G_ERR_NO_DEVICE,
                        "the Vulkan loader found no driver (vkCreateInstance: "
                        "VK_ERROR_INCOMPATIBLE_DRIVER). Install one; on Debian/Ubuntu, 'apt "
                        "install mesa-vulkan-drivers' gives a CPU device (lavapipe)");
    if (result != VK_SUCCESS) return t2g_vk_fail(err, result, "creating the Vulkan instance");
    volkLoadInstance(*instance);

    if (validate) {
        VkDebugUtilsMessengerCreateInfoEXT minfo = messenger_info(validation);
        result = vkCreateDebugUtilsMessengerEXT(*instance, &minfo, NULL, messenger);
        if (result != VK_SUCCESS) {
            vkDestroyInstance(*instance, NULL);
            *instance = VK_NULL_HANDLE;
            return t2g_vk_fail(err, result, "creating the validation messenger");
        }
    }
    return T2G_OK;
}

void t2g_vk_instance_destroy(VkInstance instance, VkDebugUtilsMessengerEXT messenger) {
    if (!instance) return;
    if (messenger) vkDestroyDebugUtilsMessengerEXT(instance, messenger, NULL);
    vkDestroyInstance(instance, NULL);
}
