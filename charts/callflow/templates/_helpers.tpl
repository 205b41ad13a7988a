{{/* The chart's name, overridable. */}}
{{- define "callflow.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-scoped prefix of every object's name. */}}
{{- define "callflow.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* One component's object name: <fullname>-<service>. Call with (dict "root" $ "name" $name). */}}
{{- define "callflow.componentName" -}}
{{- printf "%s-%s" (include "callflow.fullname" .root) .name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "callflow.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "callflow.labels" -}}
helm.sh/chart: {{ include "callflow.chart" . }}
app.kubernetes.io/name: {{ include "callflow.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: callflow
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* A component's labels; its selector labels are the immutable subset (no version, no chart). */}}
{{- define "callflow.componentLabels" -}}
{{ include "callflow.labels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{- define "callflow.selectorLabels" -}}
app.kubernetes.io/name: {{ include "callflow.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{/* A service's settings: `defaults` with its own entry merged over them. */}}
{{- define "callflow.serviceValues" -}}
{{- $own := index .root.Values.services .name }}
{{- toYaml (mergeOverwrite (deepCopy .root.Values.defaults) (deepCopy $own)) }}
{{- end }}

{{- define "callflow.image" -}}
{{- $tag := default .root.Chart.AppVersion .root.Values.image.tag }}
{{- $repository := printf "%s/%s" .root.Values.image.repository .name }}
{{- with .svc.image }}{{ with .repository }}{{ $repository = . }}{{ end }}{{ with .tag }}{{ $tag = . }}{{ end }}{{ end }}
{{- printf "%s:%s" $repository $tag }}
{{- end }}

{{/* Ingest's address: the public URL when set, else its Service inside the cluster. */}}
{{- define "callflow.ingestUrl" -}}
{{- if .Values.callflow.publicUrl }}
{{- .Values.callflow.publicUrl }}
{{- else }}
{{- $svc := include "callflow.serviceValues" (dict "root" . "name" "ingest") | fromYaml }}
{{- $port := dig "service" "port" 80 $svc | int }}
{{- /* No ":80": Twilio-style signatures cover the URL as written, and ingest rebuilds it from the Host header. */}}
{{- printf "http://%s%s" (include "callflow.componentName" (dict "root" . "name" "ingest")) (eq $port 80 | ternary "" (printf ":%d" $port)) }}
{{- end }}
{{- end }}

{{/* The plain variables of one service: its ConfigMap's data. */}}
{{- define "callflow.serviceEnv" -}}
{{- $root := .root }}
{{- $c := $root.Values.callflow }}
{{- $env := dict
  "CALLFLOW_NAMESPACE" $c.namespace
  "CALLFLOW_LOG_LEVEL" $c.logLevel
  "CALLFLOW_NATS_URL" $c.nats.url
  "CALLFLOW_S3_ENDPOINT" $c.s3.endpoint
  "CALLFLOW_S3_BUCKET" $c.s3.bucket
  "CALLFLOW_S3_REGION" $c.s3.region
  "CALLFLOW_S3_FORCE_PATH_STYLE" (toString $c.s3.forcePathStyle)
  "HOME" "/tmp"
  "TMPDIR" "/tmp"
}}
{{- with $c.database.poolSize }}{{ $_ := set $env "CALLFLOW_DATABASE_POOL_SIZE" (toString .) }}{{ end }}
{{- with $c.otlpEndpoint }}{{ $_ := set $env "OTEL_EXPORTER_OTLP_ENDPOINT" . }}{{ end }}
{{- $_ := set $env .svc.portVariable (toString .svc.port) }}
{{- if eq .name "ingest" }}
{{- with $c.publicUrl }}{{ $_ := set $env "CALLFLOW_INGEST_PUBLIC_URL" . }}{{ end }}
{{- end }}
{{- if eq .name "outbound-dialer" }}
{{- $_ := set $env "CALLFLOW_DIALER_CALLBACK_BASE_URL" (include "callflow.ingestUrl" $root) }}
{{- end }}
{{- range $k, $v := .svc.env }}{{ $_ := set $env $k (toString $v) }}{{ end }}
{{- toYaml $env }}
{{- end }}
