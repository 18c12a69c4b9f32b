package dev.rootguard.policy;

/**
 * One broken rule in one place of a submitted object.
 *
 * @param rule    the stable rule ID, e.g. {@code run-as-root}
 * @param path    the field path in the submitted object, e.g.
 *                {@code spec.template.spec.containers[1].securityContext.runAsUser}
 * @param message what is wrong and how to fix it
 * @param action  the effective action once rule action, mode and exemptions are applied (as a rule
 *                returns it: the strongest action the finding may get, see {@link #capped})
 */
public record Violation(String rule, String path, String message, Action action) {

    /** A finding from a rule, before the evaluator attaches the action. */
    public static Violation of(String rule, String path, String message) {
        return new Violation(rule, path, message, Action.ENFORCE);
    }

    /**
     * A finding whose action is at most {@code cap}: the evaluator gives it the weakest of the cap,
     * the rule's action and the mode, and drops it when the cap is {@link Action#OFF}.
     */
    public static Violation capped(String rule, String path, String message, Action cap) {
        return new Violation(rule, path, message, cap);
    }

    public Violation withAction(Action newAction) {
        return new Violation(rule, path, message, newAction);
    }

    /** The one-line form used in denials, warnings, logs and the audit table. */
    public String line() {
        return "[" + rule + "] " + path + ": " + message;
    }
}
