#!/bin/sh
# Remakes the golden chat-template files with the oracle's transformers (tools/setup.sh --oracle)
# and compares them with tests/golden/chat/ byte for byte.
#   tests/oracle/regenerate_chat.sh [SOURCE_DIR]      (SOURCE_DIR: the repository root; default: here)
# To update the committed files after a deliberate change, run make_chat_golden.py into tests/golden/chat.
exec sh "$(dirname "$0")/regenerate_golden.sh" make_chat_golden.py chat "$@"
