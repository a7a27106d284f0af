{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "kubedask.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: <release>-<chart>, or the release name when it already holds the chart's name. */}}
{{- define "kubedask.fullname" -}}
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

{{/* Name of cluster-scoped objects (ClusterRole, ClusterRoleBinding): unique per release namespace. */}}
{{- define "kubedask.clusterName" -}}
{{- printf "%s-%s" (include "kubedask.fullname" .) .Release.Namespace | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kubedask.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Standard labels, on every object. */}}
{{- define "kubedask.labels" -}}
helm.sh/chart: {{ include "kubedask.chart" . }}
{{ include "kubedask.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kubedask
{{- end }}

{{/* Selector labels: the operator's pods and the metrics Service. */}}
{{- define "kubedask.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kubedask.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "kubedask.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kubedask.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "kubedask.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Namespace of the leader-election Lease. */}}
{{- define "kubedask.leaseNamespace" -}}
{{- default .Release.Namespace .Values.leaderElection.namespace }}
{{- end }}

{{/* Fails rendering on combinations the schema cannot express. */}}
{{- define "kubedask.validate" -}}
{{- if and (eq .Values.rbac.scope "namespaced") (empty .Values.watchNamespaces) }}
{{- fail "rbac.scope=namespaced needs at least one namespace in watchNamespaces" }}
{{- end }}
{{- if and (eq .Values.rbac.scope "cluster") (not (empty .Values.watchNamespaces)) }}
{{- fail "watchNamespaces is only used with rbac.scope=namespaced; set rbac.scope=namespaced or remove watchNamespaces" }}
{{- end }}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) }}
{{- fail "replicaCount > 1 needs leaderElection.enabled=true, or the replicas would reconcile the same clusters at once" }}
{{- end }}
{{- end }}

{{/*
The operator's rules on namespaced resources: the same in a ClusterRole (scope cluster) and in
each watched namespace's Role (scope namespaced).
*/}}
{{- define "kubedask.namespacedRules" -}}
- apiGroups: [kubedask.io]
  resources: [daskclusters, daskworkergroups, daskjobs]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [kubedask.io]
  resources: [daskclusters/status, daskworkergroups/status, daskjobs/status]
  verbs: [get, update, patch]
- apiGroups: [kubedask.io]
  resources: [daskclusters/finalizers, daskworkergroups/finalizers, daskjobs/finalizers]
  verbs: [update]
- apiGroups: [kubedask.io]
  resources: [daskworkergroups/scale]
  verbs: [get, update, patch]
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch, create, delete, patch]
- apiGroups: [""]
  resources: [services]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch]
# Only to read the TLS Secrets that DaskCluster.spec.security.tls names.
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch]
{{- end }}

{{/* Reading DaskAutoscalingPolicies, which are cluster-scoped. */}}
{{- define "kubedask.policyRules" -}}
- apiGroups: [kubedask.io]
  resources: [daskautoscalingpolicies]
  verbs: [get, list, watch]
{{- end }}

{{/* Selects the scheduler Services or worker pods the operator made, in any cluster. */}}
{{- define "kubedask.managedSelector" -}}
app.kubernetes.io/managed-by: kubedask-operator
kubedask.io/component: {{ .component }}
{{- end }}

{{/* The namespaces the operator watches, as a monitor's namespaceSelector. */}}
{{- define "kubedask.watchedNamespaces" -}}
{{- if eq .Values.rbac.scope "namespaced" -}}
matchNames:
  {{- toYaml .Values.watchNamespaces | nindent 2 }}
{{- else -}}
any: true
{{- end -}}
{{- end }}

{{/*
Target labels from the object's kubedask.io labels: kubedask_cluster (the DaskCluster) and
kubedask_component (scheduler, worker), which the Grafana dashboard filters by. The argument is
the role whose meta labels are read: "service" or "pod".
*/}}
{{- define "kubedask.clusterRelabelings" -}}
- sourceLabels: [__meta_kubernetes_{{ . }}_label_kubedask_io_cluster]
  targetLabel: kubedask_cluster
- sourceLabels: [__meta_kubernetes_{{ . }}_label_kubedask_io_component]
  targetLabel: kubedask_component
{{- end }}
