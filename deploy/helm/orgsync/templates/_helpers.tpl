{{- define "orgsync.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "orgsync.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "orgsync.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The checks values.schema.json cannot state. */}}
{{- define "orgsync.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (ne .Values.database.driver "postgres") -}}
{{- fail (printf "replicaCount %d needs database.driver: postgres (SQLite is one file written by one process)" (int .Values.replicaCount)) -}}
{{- end -}}
{{- end -}}

{{/* orgsync's config file: the user's config, with what the chart owns set. */}}
{{- define "orgsync.config" -}}
{{- $cfg := deepCopy .Values.config -}}
{{- $server := deepCopy (default (dict) $cfg.server) -}}
{{- $_ := set $server "listen" "0.0.0.0:8080" -}}
{{- $_ := set $server "public_url" .Values.publicURL -}}
{{- if .Values.adminToken.existingSecret -}}
{{- $_ := set $server "admin_token_file" "/etc/orgsync/secrets/admin-token" -}}
{{- end -}}
{{- $_ := set $cfg "server" $server -}}
{{- if eq .Values.database.driver "postgres" -}}
{{- $_ := set $cfg "database" (dict "driver" "postgres" "dsn_file" "/etc/orgsync/secrets/database-dsn" "max_open_conns" (int .Values.database.maxOpenConns)) -}}
{{- else -}}
{{- $_ := set $cfg "database" (dict "driver" "sqlite" "dsn" "/var/lib/orgsync/orgsync.db") -}}
{{- end -}}
{{- toYaml $cfg -}}
{{- end -}}
