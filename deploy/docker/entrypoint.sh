#!/bin/sh
# Container entry point for every FashionEdit image.
#
# Docker/Compose secrets arrive as files (/run/secrets/<name>) while the services read their settings
# from environment variables. Following the convention of the official database images, for every
# variable NAME_FILE that is set (NAME being FASHIONEDIT_* or OPENAI_API_KEY) and whose NAME is not
# set, NAME is exported with the file's content (one trailing newline dropped). Then the command runs.
set -eu

for file_var in $(env | sed -n 's/^\(\(FASHIONEDIT_[A-Z0-9_]*\|OPENAI_API_KEY\)_FILE\)=.*/\1/p'); do
    name=${file_var%_FILE}
    eval "path=\${$file_var}"
    eval "already=\${$name:-}"
    if [ -n "$already" ]; then
        echo "entrypoint: both $name and $file_var are set; keeping $name" >&2
        continue
    fi
    if [ ! -r "$path" ]; then
        echo "entrypoint: $file_var points at '$path', which cannot be read" >&2
        exit 64
    fi
    value=$(cat "$path")
    export "$name=$value"
    unset "$file_var"
done

exec "$@"
