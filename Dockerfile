# Skirmish in a container: docker build -t skirmish . && docker run -p 8080:8080 skirmish
# (or scripts/build-image.sh, which uses buildah where no Docker engine runs).
# The port is SKIRMISH_PORT, which the daemon and the HEALTHCHECK both read:
#   docker run -e SKIRMISH_PORT=9000 -p 9000:9000 skirmish
# The build stage uses the same install and build scripts as the README and CI.

FROM debian:bookworm-slim AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN TARGET=skirmishd scripts/build.sh /src/build -DSKIRMISH_TESTS=OFF && strip build/server/skirmishd

FROM debian:bookworm-slim
# Only the shared libraries skirmishd links against (the web demo is inside the binary).
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends libuv1 libspdlog1.10 libfmt9 libssl3 libhiredis0.14 curl \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/skirmish --create-home skirmish
COPY --from=build /src/build/server/skirmishd /usr/local/bin/skirmishd
# The defaults, as a file to edit or mount over; the daemon reads it through SKIRMISH_CONFIG,
# so flags given to `docker run` still apply on top of it. SKIRMISH_PORT (over the file's
# port) is also what the HEALTHCHECK asks: change the port with -e SKIRMISH_PORT, not --port.
COPY config/skirmish.json /etc/skirmish/skirmish.json
ENV SKIRMISH_CONFIG=/etc/skirmish/skirmish.json SKIRMISH_PORT=8080
USER skirmish
WORKDIR /var/lib/skirmish
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${SKIRMISH_PORT:-8080}/healthz" || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/skirmishd"]
