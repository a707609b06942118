#!/bin/sh
# A private CA and a certificate for the NATS server, for the nats-tls component, with openssl.
# (With cert-manager, issue a Certificate for the same DNS names into the Secret fedsim-nats-tls
# instead: it writes tls.crt, tls.key and ca.crt the same way.)
#
#   deploy/k8s/components/nats-tls/make-certificate.sh [namespace] [out-dir]
#   kubectl -n fedsim create secret generic fedsim-nats-tls \
#     --from-file=deploy/k8s/creds/tls/tls.crt --from-file=deploy/k8s/creds/tls/tls.key \
#     --from-file=deploy/k8s/creds/tls/ca.crt
#
# The server certificate names the Service in every form a pod may use: nats, nats.<ns>,
# nats.<ns>.svc and nats.<ns>.svc.cluster.local. Keep ca.key out of the cluster and out of git
# (the default out-dir, deploy/k8s/creds, is ignored); it is only needed to issue again.
set -eu
NS="${1:-fedsim}"
OUT="${2:-deploy/k8s/creds/tls}"
DAYS="${DAYS:-365}"
mkdir -p "$OUT"
cd "$OUT"
umask 077
openssl req -x509 -newkey rsa:3072 -nodes -days "$DAYS" -subj "/CN=fedsim NATS CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout ca.key -out ca.crt 2>/dev/null
openssl req -newkey rsa:3072 -nodes -subj "/CN=nats" -keyout tls.key -out tls.csr 2>/dev/null
printf 'subjectAltName=DNS:nats,DNS:nats.%s,DNS:nats.%s.svc,DNS:nats.%s.svc.cluster.local\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' \
  "$NS" "$NS" "$NS" > server.ext
openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days "$DAYS" \
  -extfile server.ext -out tls.crt 2>/dev/null
rm -f tls.csr server.ext ca.srl
chmod 644 ca.crt tls.crt
echo "wrote $OUT/ca.crt, $OUT/tls.crt, $OUT/tls.key (and $OUT/ca.key: keep it private)"
