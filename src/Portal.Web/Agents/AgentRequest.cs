using Microsoft.AspNetCore.Mvc;
using Portal.Web.Platform;
using Portal.Web.Tenancy;

namespace Portal.Web.Agents;

/// <summary>A signed-in agent's request as the services take it: who, in which tenant, from where.</summary>
public sealed record AgentRequest(AgentContext Agent, TenantSettings Tenant, RequestContext Origin)
{
    /// <summary>The request's agent and tenant, read once per request; null when no agent is signed in or the tenant is gone.</summary>
    public static AgentRequest? Of(HttpContext http)
    {
        if (http.Items[typeof(AgentRequest)] is AgentRequest known)
        {
            return known;
        }

        if (AgentContext.From(http.User) is not { } agent
            || http.RequestServices.GetRequiredService<ITenantCatalog>().Find(agent.TenantId) is not { } tenant)
        {
            return null;
        }

        var request = new AgentRequest(agent, tenant, RequestContext.Of(http));
        http.Items[typeof(AgentRequest)] = request;
        return request;
    }
}

/// <summary>
/// A controller whose actions need a signed-in agent (the authorization policy has let the request in): <see cref="Current"/>
/// is the agent, their tenant and where the request came from.
/// </summary>
public abstract class AgentController : Controller
{
    protected AgentRequest Current => AgentRequest.Of(HttpContext)
        ?? throw new InvalidOperationException("This action needs a signed-in agent of a known tenant.");
}
