package dev.wimg.imaging;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs the annotated tests only where libvips can be loaded; elsewhere they are reported as
 * skipped with the command that installs it, never passed silently.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(LibvipsCondition.class)
@interface EnabledIfLibvips {
}
