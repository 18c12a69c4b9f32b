package dev.rootguard.policy;

/**
 * One broken rule in one place of a submitted object.
 *
 * @param rule    the stable rule ID, e.g. {@code run-as-root}
 * @param path    the field path in the submitted object, e.g.
 *                {@code spec.template.spec.containers[1].securityContext.runAsUser}
 * @param message what is wrong and how to fix it
 * @param action  the effective action once rule action, mode and exemptions are applied
 */
public record Violation(String rule, String path, String message, Action action) {

    /** A finding from a rule, before the evaluator attaches the action. */
    public static Violation of(String rule, String path, String message) {
        return new Violation(rule, path, message, Action.ENFORCE);
    }

    public Violation withAction(Action newAction) {
        return new Violation(rule, path, message, newAction);
    }

    /** The one-line form used in denials, warnings, logs and the audit table. */
    public String line() {
        return "[" + rule + "] " + path + ": " + message;
    }
}
