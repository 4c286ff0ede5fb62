#!/bin/sh
# t2g devices (text and JSON), --device by index and by name, and the errors when a device is
# missing or there is no driver at all.   usage: cli_devices.sh T2G SOURCE_DIR BUILD_DIR
set -u
t2g=$1
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }

out=$("$t2g" devices 2>&1); code=$?
check "devices exits 0" '[ $code = 0 ]'
check "devices names device 0 and its subgroup size" 'printf "%s" "$out" | grep -q "^0: .*" && printf "%s" "$out" | grep -q "subgroup size"'

json=$("$t2g" devices --json 2>/dev/null); code=$?
check "devices --json exits 0" '[ $code = 0 ]'
check "devices --json is one JSON object with the fields" 'printf "%s" "$json" | head -c 1 | grep -q "{" && for key in name type vendor driver_version vulkan subgroup_size shared_memory_bytes max_storage_buffer_range device_local_bytes fp16 bf16 int8 cooperative_matrix; do printf "%s" "$json" | grep -q "\"$key\":" || exit 1; done'
if command -v python3 >/dev/null 2>&1; then
  check "devices --json parses as JSON" 'printf "%s" "$json" | python3 -c "import json,sys; d=json.load(sys.stdin); assert d[\"devices\"][0][\"index\"] == 0"'
  # lavapipe's memory is the host's: its fixed 2 GiB heap is reported beside the host's available
  # memory (MemAvailable of /proc/meminfo, read here a moment later: within 25%), which runs plan for
  available=$(sed -n 's/^MemAvailable: *\([0-9]*\) kB/\1/p' /proc/meminfo)
  check "lavapipe: device-local memory is the host's available memory, the driver's heap reported beside it" 'printf "%s" "$json" | python3 -c "
import json, sys
for d in json.load(sys.stdin)[\"devices\"]:
    if d[\"driver\"] != \"llvmpipe\": continue
    assert d[\"reported_heap_bytes\"] > 0 and \"host\" in d[\"memory_note\"], d
    assert abs(d[\"device_local_bytes\"] - $available * 1024) < 0.25 * $available * 1024, d
"'
fi

name=$(printf '%s' "$out" | sed -n 's/^0: \(....\).*/\1/p')
out=$("$t2g" selfcheck --device 0 --help 2>&1); code=$?
check "--help wins over other options" '[ $code = 0 ]'

out=$("$t2g" selfcheck --device no-such-device-xyz 2>&1); code=$?
check "--device naming no device exits 2" '[ $code = 2 ]'
check "--device naming no device lists the devices" 'printf "%s" "$out" | grep -q "matches .no-such-device-xyz.; the devices are: 0: "'

out=$("$t2g" selfcheck --device 99 2>&1); code=$?
check "--device 99 exits 2" '[ $code = 2 ]'

out=$(T2G_DEVICE="$name" "$t2g" selfcheck --seed 1 2>&1); code=$?
check "T2G_DEVICE by name ($name) selects a device and selfcheck passes" '[ $code = 0 ] && printf "%s" "$out" | grep -q "all match the reference"'
check "selfcheck checks the 16-bit variants against the f32 path (or says the device has no 16-bit storage)" 'printf "%s" "$out" | grep -q "matmul_gemm\(_cpu\)\?@bf16_bf16 .* ok\|no 16-bit storage"'

out=$(VK_ICD_FILENAMES=/nonexistent/icd.json VK_DRIVER_FILES=/nonexistent/icd.json "$t2g" devices 2>&1); code=$?
check "no driver: devices exits 2" '[ $code = 2 ]'
check "no driver: the message says how to get a device" 'printf "%s" "$out" | grep -q "mesa-vulkan-drivers"'
out=$(VK_ICD_FILENAMES=/nonexistent/icd.json VK_DRIVER_FILES=/nonexistent/icd.json "$t2g" selfcheck 2>&1); code=$?
check "no driver: selfcheck exits 2 with the same advice" '[ $code = 2 ] && printf "%s" "$out" | grep -q "mesa-vulkan-drivers"'

# No loader at all: a stand-in libvulkan.so.1 without the loader's entry points comes first
# on the library path.
stub=$(mktemp -d /tmp/t2g-no-loader-XXXXXX)
echo 'int not_a_vulkan_loader;' > "$stub/stub.c"
if cc -shared -fPIC -o "$stub/libvulkan.so.1" "$stub/stub.c" 2>/dev/null; then
  out=$(LD_LIBRARY_PATH="$stub" "$t2g" devices 2>&1); code=$?
  check "no loader: devices exits 2" '[ $code = 2 ]'
  check "no loader: the message says which library and how to get one" 'printf "%s" "$out" | grep -q "libvulkan.so.1" && printf "%s" "$out" | grep -q "apt install libvulkan1 mesa-vulkan-drivers"'
fi
rm -rf "$stub"

[ $fail = 0 ] && echo "cli_devices: all passed"
exit $fail
