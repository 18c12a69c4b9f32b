package dev.rootguard.policy.rule;

import dev.rootguard.policy.ContainerView;
import dev.rootguard.policy.Engine;
import dev.rootguard.policy.IdRange;
import dev.rootguard.policy.PodSpecView;
import dev.rootguard.policy.PolicyConfig;
import dev.rootguard.policy.Violation;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * {@code required-ids}: every container must have an explicit UID and GID, and the pod an fsGroup,
 * so that no identity is left to the image.
 *
 * <p>Restricted fields: effective {@code runAsUser} and {@code runAsGroup} of every container
 * (container overrides pod), and {@code spec.securityContext.fsGroup}.
 *
 * <p>Allowed: set, and inside the optional ranges {@code rootguard.rules.required-ids.run-as-user-range},
 * {@code run-as-group-range} and {@code fs-group-range}.
 */
public final class RequiredIdsRule implements Rule {
    public static final String ID = "required-ids";

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String summary() {
        return "runAsUser and runAsGroup must be set for every container and fsGroup for the pod, inside the configured ranges";
    }

    @Override
    public List<Violation> check(PodSpecView pod, List<ContainerView> containers, PolicyConfig config, Engine.Context ctx) {
        Findings findings = new Findings(ID);
        checkId(pod, containers, findings, "runAsUser", pod::runAsUser, config.runAsUserRange(), config.defaults().runAsUser());
        checkId(pod, containers, findings, "runAsGroup", pod::runAsGroup, config.runAsGroupRange(), config.defaults().runAsGroup());
        Long fsGroup = pod.podSecurityContext() == null ? null : pod.podSecurityContext().getFsGroup();
        String fsPath = pod.podField("fsGroup");
        if (fsGroup == null) {
            findings.addPod(fsPath, "fsGroup is not set, so volumes keep the group the image or volume gives them; set "
                    + fsPath + " to a GID such as " + config.defaults().fsGroup());
        } else if (config.fsGroupRange().isPresent() && !config.fsGroupRange().get().contains(fsGroup)) {
            findings.addPod(fsPath, "fsGroup " + fsGroup + " is outside the allowed range " + config.fsGroupRange().get()
                    + "; choose a GID in that range");
        }
        return findings.toList();
    }

    private static void checkId(PodSpecView pod, List<ContainerView> containers, Findings findings, String field,
            Function<ContainerView, PodSpecView.Effective<Long>> effective, Optional<IdRange> range, long suggestion) {
        List<ContainerView> missing = new ArrayList<>();
        for (ContainerView c : containers) {
            PodSpecView.Effective<Long> id = effective.apply(c);
            if (!id.isSet()) {
                missing.add(c);
            } else if (range.isPresent() && !range.get().contains(id.value())) {
                findings.add(id.path(), c, names -> field + " " + id.value() + " of " + names + " is outside the allowed range "
                        + range.get() + "; choose an ID in that range");
            }
        }
        if (missing.isEmpty()) {
            return;
        }
        String example = range.map(r -> Long.toString(r.contains(suggestion) ? suggestion : r.min())).orElse(Long.toString(suggestion));
        if (missing.size() == containers.size()) {
            findings.addPod(pod.podField(field), field + " is not set for any container (" + Findings.names(names(missing))
                    + "); set " + pod.podField(field) + " to an ID such as " + example);
        } else {
            for (ContainerView c : missing) {
                findings.add(c.field(field), c, names -> field + " is not set for " + names + " (here or in " + pod.podField(field)
                        + "); set it to an ID such as " + example);
            }
        }
    }

    private static List<String> names(List<ContainerView> cs) {
        return cs.stream().map(ContainerView::name).toList();
    }
}
