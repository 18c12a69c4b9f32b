package dev.rootguard.cli;

/**
 * The exit codes of {@code rootguard audit}, {@code fix} and {@code rules}, in one place.
 * picocli's own outcomes use the same numbers: {@code --help} and {@code --version} exit with
 * {@link #OK}, unknown options and missing arguments with {@link #ERROR}.
 */
public final class ExitCode {
    /** Nothing at or above {@code --fail-on} (audit); every object passes after defaulting (fix). */
    public static final int OK = 0;
    /** Violations at or above {@code --fail-on} (audit); objects still rejected after defaulting (fix). */
    public static final int VIOLATIONS = 1;
    /** Usage or input errors: bad options or configuration, unreadable files or documents, an unreachable cluster. */
    public static final int ERROR = 2;

    private ExitCode() {}
}
