package dev.dynsni.it;

/**
 * {@link WarPerTenantIT} with {@code jetty.dynamicSni.hostedNames=deployed}: the names the running
 * contexts claim are the hosted names, so a stored certificate no context claims is not served, and
 * a tenant's name becomes unknown as soon as its context is undeployed.
 */
class WarPerTenantDeployedIT extends WarPerTenantIT
{
    @Override
    String hostedNames()
    {
        return "deployed";
    }
}
