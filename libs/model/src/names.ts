/**
 * Kubernetes name syntax (k8s.io/apimachinery/pkg/util/validation): a
 * DNS-1123 label (namespaces; at most 63 characters) and a DNS-1123
 * subdomain (node and service account names, label key prefixes; at most
 * 253). The one copy of these rules in the mesh.
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Whether value is a DNS-1123 label: at most 63 lower-case letters, digits and "-", alphanumeric at both ends. */
export function isDns1123Label(value: string): boolean {
  return value.length <= 63 && DNS1123_LABEL.test(value);
}

/** Whether value is a DNS-1123 subdomain: at most 253 characters, DNS-1123 labels joined by dots. */
export function isDns1123Subdomain(value: string): boolean {
  return value.length <= 253 && DNS1123_SUBDOMAIN.test(value);
}
