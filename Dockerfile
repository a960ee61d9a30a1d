# callgate's container image (docs/install.md). Two stages: the build stage
# runs `make dist` for the image's platform (a static binary: CGO_ENABLED=0,
# -trimpath, the version stamped through the Makefile's LDFLAGS); the final stage is
# debian:bookworm-slim with that one binary, the CA bundle (HubSpot and the
# dialers are HTTPS) and a non-root user. Time zones are compiled into the
# binary (time/tzdata). Built-in plugins run as `callgate plugin NAME`, the
# same binary re-executed, so nothing else is copied.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t callgate .
#   docker run -p 8080:8080 -v callgate-data:/var/lib/callgate \
#     -v $PWD/callgate.hcl:/etc/callgate/callgate.hcl:ro callgate
#
# The config must set server.listen = "0.0.0.0:8080" (the default,
# 127.0.0.1:8080, is unreachable from outside the container) and
# server.data_dir = "/var/lib/callgate".

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=
# The release build itself (make dist), for this image's platform only; it
# also checks that the binary reports $VERSION.
RUN GOFLAGS=-buildvcs=false make dist DIST=/out DIST_PLATFORMS="$(go env GOOS)/$(go env GOARCH)" \
      VERSION="$VERSION" COMMIT="$COMMIT" \
 && mv "/out/callgate-$(go env GOOS)-$(go env GOARCH)" /out/callgate

FROM debian:bookworm-slim
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/callgate /usr/local/bin/callgate
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/callgate --shell /usr/sbin/nologin callgate \
 && mkdir -p /var/lib/callgate /etc/callgate \
 && chown callgate:callgate /var/lib/callgate \
 && chmod 0700 /var/lib/callgate
USER callgate:callgate
WORKDIR /var/lib/callgate
VOLUME ["/var/lib/callgate"]
EXPOSE 8080
# The binary probes itself (callgate health): no curl or shell in the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/callgate", "health", "--addr", "http://127.0.0.1:8080"]
ENTRYPOINT ["/usr/local/bin/callgate"]
CMD ["serve", "--config", "/etc/callgate/callgate.hcl"]
