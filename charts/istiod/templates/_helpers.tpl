{{- define "istiod.name" -}}
istiod{{- if .Values.revision }}-{{ .Values.revision }}{{- end }}
{{- end }}

{{- define "istiod.image" -}}
{{ .Values.hub }}/{{ .Values.image }}:{{ .Values.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "istiod.waypointImage" -}}
{{ .Values.waypoint.hub | default .Values.hub }}/{{ .Values.waypoint.image }}:{{ .Values.waypoint.tag | default .Values.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "istiod.selectorLabels" -}}
app: istiod
istio: pilot
istio.io/rev: {{ .Values.revision | default "default" }}
{{- end }}

{{- define "istiod.labels" -}}
{{ include "istiod.selectorLabels" . }}
app.kubernetes.io/name: istiod
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: mesh
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}
