package dev.wimg.testsupport;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The annotated tests need libvips ({@link Requirement#LIBVIPS}): skipped with the install command
 * where it cannot be loaded, failed under {@code CI=true}. Under CI, an assumption that aborts one
 * of these tests fails it as well.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Inherited
@ExtendWith(RequirementExtension.class)
public @interface RequiresLibvips {
}
