package dev.rootguard.config;

import java.util.Locale;
import org.eclipse.microprofile.config.spi.Converter;

/**
 * Reads a {@code rootguard.*} switch strictly: {@code true}/{@code false} (also {@code yes}/{@code no},
 * {@code on}/{@code off}, {@code 1}/{@code 0}, any case). The configuration library's own converter reads
 * every other word as false, so a typo such as {@code mutation.enabled=ture} would silently turn a
 * feature off; here it stops start-up naming the key ({@link ConfigErrors}).
 */
public final class StrictBoolean implements Converter<Boolean> {
    /** Part of the message {@link ConfigErrors} recognises. */
    static final String NOT_A_BOOLEAN = "is not true or false";

    @Override
    public Boolean convert(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "true", "yes", "on", "1" -> Boolean.TRUE;
            case "false", "no", "off", "0" -> Boolean.FALSE;
            default -> throw new IllegalArgumentException(NOT_A_BOOLEAN);
        };
    }
}
