{{- define "ztunnel.image" -}}
{{ .Values.hub }}/{{ .Values.image }}:{{ .Values.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "ztunnel.istiod" -}}
{{- $ns := .Values.istiodNamespace | default .Release.Namespace -}}
istiod{{- if .Values.revision }}-{{ .Values.revision }}{{- end }}.{{ $ns }}.svc:15012
{{- end }}

{{- define "ztunnel.selectorLabels" -}}
app: ztunnel
{{- end }}

{{- define "ztunnel.labels" -}}
{{ include "ztunnel.selectorLabels" . }}
app.kubernetes.io/name: ztunnel
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: mesh
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}
