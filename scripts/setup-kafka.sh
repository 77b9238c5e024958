#!/usr/bin/env bash
# Fetches the Apache Kafka broker jars from Maven Central into .cache/kafka/libs (once).
# Maven's own downloads stay in .cache/m2, so nothing lands outside the project.
# Skipped when KAFKA_BROKERS names an existing cluster.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
libs="$root/.cache/kafka/libs"
pom="$root/scripts/kafka/pom.xml"
stamp="$libs/.pom.sha256"

if [ -n "${KAFKA_BROKERS:-}" ]; then echo "setup-kafka: KAFKA_BROKERS=$KAFKA_BROKERS, no local broker needed" >&2; exit 0; fi
want="$(sha256sum "$pom" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
command -v java >/dev/null || { echo "setup-kafka: java (17 or newer) is required to run the Kafka broker" >&2; exit 1; }
command -v mvn >/dev/null || { echo "setup-kafka: mvn is required to fetch the Kafka jars from Maven Central" >&2; exit 1; }
echo "setup-kafka: fetching Kafka jars from Maven Central" >&2
rm -rf "$libs"
mvn -q -B -Dstyle.color=never -f "$pom" -Dmaven.repo.local="$root/.cache/m2" \
  dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$libs"
echo "$want" > "$stamp"
