package dev.rootguard.policy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EphemeralContainer;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.SecurityContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * A pod spec found in a submitted object, with the path prefix that leads to it
 * ({@code spec} for a Pod, {@code spec.template.spec} for a Deployment, ...).
 *
 * <p>The view wraps the live model object, so the defaulter's writes land in the object
 * it was extracted from.
 *
 * @param spec     the pod spec
 * @param metadata the pod (or pod template) metadata, possibly null
 * @param path     the path of the pod spec in the submitted object
 */
public record PodSpecView(PodSpec spec, ObjectMeta metadata, String path) {

    /** A value and the field path it came from; the path is where to set it when the value is absent. */
    public record Effective<T>(T value, String path) {
        public boolean isSet() {
            return value != null;
        }
    }

    /** All containers: regular, then init, then ephemeral, each with its path. */
    public List<ContainerView> containers() {
        List<ContainerView> out = new ArrayList<>();
        List<Container> regular = spec.getContainers();
        // Null entries cannot come from the API server, but can from a manifest; they are skipped.
        for (int i = 0; regular != null && i < regular.size(); i++) {
            if (regular.get(i) != null) {
                out.add(view(ContainerView.Type.CONTAINER, i, regular.get(i)));
            }
        }
        List<Container> init = spec.getInitContainers();
        for (int i = 0; init != null && i < init.size(); i++) {
            if (init.get(i) != null) {
                out.add(view(ContainerView.Type.INIT, i, init.get(i)));
            }
        }
        List<EphemeralContainer> eph = spec.getEphemeralContainers();
        for (int i = 0; eph != null && i < eph.size(); i++) {
            EphemeralContainer c = eph.get(i);
            if (c == null) {
                continue;
            }
            out.add(new ContainerView(
                    ContainerView.Type.EPHEMERAL,
                    c.getName(),
                    c.getImage(),
                    path + ".ephemeralContainers[" + i + "]",
                    new ContainerView.Holder() {
                        public SecurityContext get() {
                            return c.getSecurityContext();
                        }

                        public void set(SecurityContext sc) {
                            c.setSecurityContext(sc);
                        }
                    }));
        }
        return out;
    }

    private ContainerView view(ContainerView.Type type, int index, Container c) {
        return new ContainerView(
                type,
                c.getName(),
                c.getImage(),
                path + "." + type.field() + "[" + index + "]",
                new ContainerView.Holder() {
                    public SecurityContext get() {
                        return c.getSecurityContext();
                    }

                    public void set(SecurityContext sc) {
                        c.setSecurityContext(sc);
                    }
                });
    }

    /** The pod-level securityContext, possibly null. */
    public PodSecurityContext podSecurityContext() {
        return spec.getSecurityContext();
    }

    /** The pod-level securityContext, created if absent (for the defaulter). */
    public PodSecurityContext podSecurityContextForWrite() {
        PodSecurityContext psc = spec.getSecurityContext();
        if (psc == null) {
            psc = new PodSecurityContext();
            spec.setSecurityContext(psc);
        }
        return psc;
    }

    /** Path of a field in the pod-level securityContext. */
    public String podField(String name) {
        return path + ".securityContext." + name;
    }

    /** Pod annotations (or template annotations), never null. */
    public Map<String, String> annotations() {
        return metadata == null || metadata.getAnnotations() == null ? Map.of() : metadata.getAnnotations();
    }

    /**
     * {@code spec.os.name: windows}: Linux identity fields do not apply and the API server forbids them.
     * Compared exactly, as Pod Security Admission does: the API server accepts only {@code linux} and
     * {@code windows}, so another spelling must not switch the Linux rules off (in audited manifests).
     */
    public boolean isWindows() {
        return spec.getOs() != null && "windows".equals(spec.getOs().getName());
    }

    /**
     * The node architecture the pod is pinned to by {@code nodeSelector} {@code kubernetes.io/arch},
     * e.g. {@code arm64}; empty when it may run on any.
     */
    public Optional<String> nodeArch() {
        Map<String, String> selector = spec.getNodeSelector();
        return selector == null ? Optional.empty() : Optional.ofNullable(selector.get("kubernetes.io/arch"));
    }

    /** {@code hostUsers: false}: the pod runs in a user namespace, so its root maps to an unprivileged host ID. */
    public boolean isUserNamespaced() {
        return Boolean.FALSE.equals(spec.getHostUsers());
    }

    /**
     * A field that a container's securityContext overrides over the pod's, as Kubernetes resolves
     * {@code runAsUser}, {@code runAsGroup} and {@code runAsNonRoot}.
     */
    public <T> Effective<T> effective(
            ContainerView c,
            String field,
            Function<SecurityContext, T> container,
            Function<PodSecurityContext, T> pod) {
        SecurityContext sc = c.securityContext();
        T v = sc == null ? null : container.apply(sc);
        if (v != null) {
            return new Effective<>(v, c.field(field));
        }
        PodSecurityContext psc = podSecurityContext();
        T pv = psc == null ? null : pod.apply(psc);
        if (pv != null) {
            return new Effective<>(pv, podField(field));
        }
        return new Effective<>(null, c.field(field));
    }

    public Effective<Long> runAsUser(ContainerView c) {
        return effective(c, "runAsUser", SecurityContext::getRunAsUser, PodSecurityContext::getRunAsUser);
    }

    public Effective<Long> runAsGroup(ContainerView c) {
        return effective(c, "runAsGroup", SecurityContext::getRunAsGroup, PodSecurityContext::getRunAsGroup);
    }

    /** Windows: {@code windowsOptions.runAsUserName}, the container's over the pod's, as the kubelet resolves it. */
    public Effective<String> runAsUserName(ContainerView c) {
        return effective(
                c,
                "windowsOptions.runAsUserName",
                sc -> sc.getWindowsOptions() == null
                        ? null
                        : sc.getWindowsOptions().getRunAsUserName(),
                psc -> psc.getWindowsOptions() == null
                        ? null
                        : psc.getWindowsOptions().getRunAsUserName());
    }

    public Effective<Boolean> runAsNonRoot(ContainerView c) {
        return effective(c, "runAsNonRoot", SecurityContext::getRunAsNonRoot, PodSecurityContext::getRunAsNonRoot);
    }
}
