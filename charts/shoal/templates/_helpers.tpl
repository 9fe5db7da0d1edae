{{- define "shoal.fullname" -}}{{ .Release.Name }}-shoal{{- end -}}
{{- define "shoal.image" -}}{{ .Values.image.repository }}:{{ .Values.image.tag }}{{- end -}}
{{- define "shoal.insecure" -}}
{{- range .Values.insecureRegistries }} --insecure-registry={{ . }}{{- end -}}
{{- end -}}
{{- define "shoal.labels" -}}
app.kubernetes.io/name: shoal
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
