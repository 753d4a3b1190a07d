#!/usr/bin/env bash
# Builds the Sluice image: the official Flink image plus Sluice's jars (and their dependencies that Flink's
# distribution does not already carry) in /opt/flink/lib, where the parent class loader loads them once per
# process. Run after `mvn -B -DskipTests package`; needs a Docker engine (not available on the CI machines).
#   deploy/kubernetes/build-image.sh [tag]          CPU image (PyTorch CPU natives from the build)
# For the trainer's GPU image, build the same on a CUDA base with DJL's pytorch-native-cu* jar in place of
# pytorch-native-cpu, and tag it sluice:0.1.0-cuda.
set -euo pipefail
cd "$(dirname "$0")/../.."
tag="${1:-sluice:0.1.0}"
ctx="$(mktemp -d)"
mkdir -p "$ctx/lib"
for jar in deploy/cli/target/lib/*.jar; do
  name="$(basename "$jar")"
  case "$name" in
    flink-connector-*) cp "$jar" "$ctx/lib/" ;;             # connectors are not in the distribution
    flink-*|scala-*|log4j-*|slf4j-*) ;;                     # the Flink image has these
    *) cp "$jar" "$ctx/lib/" ;;
  esac
done
cp deploy/cli/target/sluice-cli-*.jar "$ctx/lib/sluice-cli.jar"
cat > "$ctx/Dockerfile" <<'DOCKER'
FROM flink:2.2.1-java17
RUN apt-get update && apt-get install -y --no-install-recommends libtcmalloc-minimal4 && rm -rf /var/lib/apt/lists/*
ENV LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4
COPY lib/ /opt/flink/lib/
DOCKER
docker build -t "$tag" "$ctx"
