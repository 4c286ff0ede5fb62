#!/bin/sh
# cmake --install puts t2g, libt2g, its headers and t2g.pc in a prefix, and a C program
# outside the tree builds against them with pkg-config and drives a kernel while it calls the
# system Vulkan loader itself. The archive exports exactly the functions of the headers:
# every defined global symbol starts with t2g_ and is named in include/t2g, and a program that
# includes only t2g.h takes the address of every function the headers declare.
#   usage: install_pkgconfig.sh T2G SOURCE_DIR BUILD_DIR
# T2G_CC and T2G_CFLAGS (set by ctest): the compiler and the sanitizer flags of the build.
set -u
cc=${T2G_CC:-cc}
cflags=${T2G_CFLAGS:-}
build=$3
prefix=$(mktemp -d /tmp/t2g-install-XXXXXX)
trap 'rm -rf "$prefix"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cmake --install "$build" --prefix "$prefix" >/dev/null || fail "cmake --install"
[ -x "$prefix/bin/t2g" ] || fail "no bin/t2g"
"$prefix/bin/t2g" version | grep -q "^t2g " || fail "the installed t2g does not run"
pc=$(find "$prefix" -name t2g.pc | head -n 1)
[ -n "$pc" ] || fail "no t2g.pc"
lib=$(find "$prefix" -name libt2g.a | head -n 1)
[ -n "$lib" ] || fail "no libt2g.a"
[ -f "$prefix/include/t2g/t2g.h" ] || fail "no include/t2g/t2g.h"
echo "ok: installed bin/t2g, $(basename "$lib"), include/t2g, $(basename "$pc")"

cat > "$prefix/use_t2g.c" <<'CEOF'
/* A program that knows t2g only through its installed headers, and calls the Vulkan loader
 * itself (t2g's own loader, volk, must not take the program's vk* names). */
#include <math.h>
#include <stdio.h>
#include <t2g/t2g.h>
#include <vulkan/vulkan.h>

int main(void) {
    uint32_t version = 0;
    if (vkEnumerateInstanceVersion(&version) != VK_SUCCESS) { printf("vkEnumerateInstanceVersion failed\n"); return 1; }
    printf("the system loader: Vulkan %u.%u\n", VK_API_VERSION_MAJOR(version), VK_API_VERSION_MINOR(version));
    t2g_error err;
    t2g_device *device;
    if (t2g_device_create(NULL, &device, &err)) { printf("device: %s\n", err.message); return 1; }
    t2g_arena *arena;
    t2g_recorder *rec;
    t2g_tensor x, y;
    float in[3] = {-1.0f, 0.0f, 2.0f}, out[3];
    if (t2g_arena_create(device, 4096, "demo", &arena, &err) || t2g_recorder_create(device, NULL, &rec, &err) ||
        t2g_tensor_alloc_f32(arena, 3, &x, &err) || t2g_tensor_alloc_f32(arena, 3, &y, &err) ||
        t2g_tensor_upload(x, in, sizeof in, &err) || t2g_gelu_forward(rec, y, x, 3, &err) ||
        t2g_recorder_submit(rec, &err) || t2g_tensor_download(y, out, sizeof out, &err)) {
        printf("error: %s\n", err.message);
        return 1;
    }
    double expected = 0.5 * 2.0 * (1.0 + tanh(0.7978845608 * (2.0 + 0.044715 * 8.0)));
    printf("gelu(2) = %.6f (expected %.6f)\n", out[2], expected);
    int ok = fabs(out[2] - expected) < 1e-5 && out[1] == 0.0f && out[0] < 0.0f;
    t2g_recorder_destroy(rec);
    t2g_arena_destroy(arena);
    t2g_device_destroy(device);
    return ok ? 0 : 1;
}
CEOF
export PKG_CONFIG_PATH="$(dirname "$pc")"
flags=$(pkg-config --cflags --libs --static t2g) || fail "pkg-config --static t2g"
echo "ok: pkg-config t2g gives: $flags"
"$cc" $cflags -std=c11 -Wall -Wextra -Werror -o "$prefix/use_t2g" "$prefix/use_t2g.c" $flags -lvulkan -lm ||
    fail "compiling against the installed t2g and the system Vulkan loader"
"$prefix/use_t2g" || fail "running a program built against the installed t2g and the system Vulkan loader"

# Exports: nothing but t2g_ names the installed headers use (no vk*, no internal helpers).
nm -g --defined-only "$lib" | awk 'NF == 3 { print $3 }' | sort > "$prefix/exported" || fail "nm $lib"
cat "$prefix"/include/t2g/*.h | grep -o 't2g_[a-z0-9_]*' | sort -u > "$prefix/named"
[ -s "$prefix/exported" ] || fail "libt2g.a exports nothing"
stray=$(comm -23 "$prefix/exported" "$prefix/named" | head -n 20)
[ -z "$stray" ] || fail "libt2g.a exports symbols that no installed header declares: $(echo $stray)"
echo "ok: libt2g.a exports $(wc -l < "$prefix/exported") symbols, each a t2g_ name of include/t2g"

# Declarations: every function the headers declare is reachable from t2g.h alone and defined.
functions=$(cat "$prefix"/include/t2g/*.h | grep -o 't2g_[a-z0-9_]* *(' | tr -d ' (' | sort -u)
[ -n "$functions" ] || fail "no function found in include/t2g"
{
    echo '#include <t2g/t2g.h>'
    echo 'typedef void (*any_function)(void);'
    echo 'any_function every_function[] = {'
    for f in $functions; do echo "    (any_function)$f,"; done
    echo '};'
    echo 'int main(void) { return every_function[0] == 0; }'
} > "$prefix/every_function.c"
"$cc" $cflags -std=c11 -Wall -Wextra -Werror -o "$prefix/every_function" "$prefix/every_function.c" $flags -lm ||
    fail "a function declared in include/t2g is not declared by t2g.h or not defined in libt2g.a"
"$prefix/every_function" || fail "running the program that names every function"
echo "ok: t2g.h declares and libt2g.a defines all $(echo "$functions" | wc -l) functions of include/t2g"
echo "install_pkgconfig: all passed"
