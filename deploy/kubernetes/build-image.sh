#!/usr/bin/env bash
# Builds the Sluice image: the official Flink image, the job jar in /opt/flink/usrlib (what both FlinkDeployments
# run) and DJL with PyTorch's CPU natives and the ranks' Gloo bindings in /opt/flink/lib, where the parent class
# loader loads their native libraries once per process. libgloo0 must be the Gloo the bindings were built against
# (Debian's 0.0~git20220518 on the build machine; docs/ranks.md). Run after `mvn -B -DskipTests package`; needs a Docker engine (not available on the
# CI machines).
#   deploy/kubernetes/build-image.sh [tag]          CPU image
# For the trainer's GPU image, build the same on a CUDA base without pytorch-native-cpu, with libtorch 2.7.1+cu128
# and PYTORCH_LIBRARY_PATH/PYTORCH_VERSION/PYTORCH_FLAVOR set as docs/gpu.md describes; tag it sluice:0.1.0-cuda.
set -euo pipefail
cd "$(dirname "$0")/../.."
tag="${1:-sluice:0.1.0}"
ctx="$(mktemp -d)"
mkdir -p "$ctx/lib" "$ctx/usrlib"
cp deploy/jobs/target/djl-lib/*.jar "$ctx/lib/"
cp deploy/jobs/target/sluice-job.jar "$ctx/usrlib/sluice-job.jar"
cat > "$ctx/Dockerfile" <<'DOCKER'
FROM flink:2.2.1-java17
RUN apt-get update && apt-get install -y --no-install-recommends libtcmalloc-minimal4 libgloo0 \
    && rm -rf /var/lib/apt/lists/*
ENV LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4
COPY lib/ /opt/flink/lib/
COPY usrlib/ /opt/flink/usrlib/
DOCKER
docker build -t "$tag" "$ctx"
