{{- define "gateway.name" -}}
{{ .Values.name | default .Release.Name }}
{{- end }}

{{- define "gateway.image" -}}
{{ .Values.hub }}/{{ .Values.image }}:{{ .Values.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "gateway.istiod" -}}
istiod{{- if .Values.revision }}-{{ .Values.revision }}{{- end }}.{{ .Values.istiodNamespace }}.svc:15012
{{- end }}

{{- define "gateway.selectorLabels" -}}
gateway.networking.k8s.io/gateway-name: {{ include "gateway.name" . }}
{{- end }}

{{- define "gateway.labels" -}}
{{ include "gateway.selectorLabels" . }}
gateway.istio.io/managed: istio.io-mesh-controller
istio.io/dataplane-mode: none
app.kubernetes.io/name: {{ include "gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: mesh
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}
