# syntax=docker/dockerfile:1
# orgsync container image.
#   docker build --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg COMMIT=$(git rev-parse HEAD) -t orgsync .
#   docker run -e ORGSYNC_ADMIN_TOKEN=... -p 8080:8080 -v orgsync-data:/var/lib/orgsync orgsync
# The SQLite driver is cgo, so the binary links glibc dynamically: the
# runtime stage is distroless "cc" (glibc, CA certificates, no shell).

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
ARG BUILD_DATE=unknown
RUN CGO_ENABLED=1 VERSION="$VERSION" COMMIT="$COMMIT" BUILD_DATE="$BUILD_DATE" \
    scripts/build.sh /out/orgsync \
 && mkdir -p /out/var/lib/orgsync

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/orgsync /usr/local/bin/orgsync
COPY packaging/orgsync.container.yaml /etc/orgsync/orgsync.yaml
COPY --from=build --chown=65532:65532 /out/var/lib/orgsync /var/lib/orgsync
USER 65532:65532
WORKDIR /var/lib/orgsync
VOLUME ["/var/lib/orgsync"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/orgsync", "healthcheck", "--url", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["/usr/local/bin/orgsync", "--config", "/etc/orgsync/orgsync.yaml"]
CMD ["serve"]
