package dev.rootguard.policy;

import io.fabric8.kubernetes.api.model.SecurityContext;

/**
 * One container of any type, with the path to it in the submitted object. Containers,
 * init containers and ephemeral containers are separate model classes; rules see them alike.
 *
 * @param type    which list the container is in
 * @param name    the container name
 * @param image   the image reference
 * @param path    e.g. {@code spec.template.spec.initContainers[0]}
 */
public record ContainerView(Type type, String name, String image, String path, Holder holder) {

    /** The container list a container belongs to, with its field name. */
    public enum Type {
        CONTAINER("containers"),
        INIT("initContainers"),
        EPHEMERAL("ephemeralContainers");

        private final String field;

        Type(String field) {
            this.field = field;
        }

        public String field() {
            return field;
        }
    }

    /** Reads and writes the container's securityContext on the underlying model object. */
    public interface Holder {
        SecurityContext get();

        void set(SecurityContext sc);
    }

    /** The container's securityContext, possibly null. */
    public SecurityContext securityContext() {
        return holder.get();
    }

    /** The container's securityContext, created if absent (for the defaulter). */
    public SecurityContext securityContextForWrite() {
        SecurityContext sc = holder.get();
        if (sc == null) {
            sc = new SecurityContext();
            holder.set(sc);
        }
        return sc;
    }

    /** Path of a field in this container's securityContext. */
    public String field(String name) {
        return path + ".securityContext." + name;
    }
}
