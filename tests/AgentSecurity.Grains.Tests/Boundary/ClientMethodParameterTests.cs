using System.Reflection;
using AgentSecurity.Abstractions.Boundary;

namespace AgentSecurity.Grains.Tests.Boundary;

/// <summary>
/// What a client hands the kernel in its arguments: the boundary checks a reference the kernel will call back (it must
/// be the caller's own observer, with the hashes of its bytes) only where a method takes it as a parameter of its own.
/// A reference or grain id inside an argument (a record's member, a list's element, an <c>object</c>) would reach the
/// kernel unchecked, with whatever hash the client wrote beside it: no client-callable method may take one.
/// </summary>
public sealed class ClientMethodParameterTests
{
    private static IEnumerable<MethodInfo> ClientCallableMethods() =>
        typeof(RequiresAttribute).Assembly.GetTypes()
            .Where(t => t.IsInterface && typeof(IAddressable).IsAssignableFrom(t) && t.GetCustomAttribute<KernelOnlyAttribute>() is null)
            .SelectMany(t => t.GetMethods())
            .Where(m => m.GetCustomAttribute<RequiresAttribute>() is not null);

    [Fact]
    public void ClientCallableMethods_TakeReferencesOnlyAsParametersOfTheirOwn()
    {
        var methods = ClientCallableMethods().ToList();
        Assert.True(methods.Count > 20, $"only {methods.Count} client-callable methods found");

        var inside = methods
            .SelectMany(m => m.GetParameters()
                .Where(p => !typeof(IAddressable).IsAssignableFrom(p.ParameterType))
                .Select(p => (Method: $"{m.DeclaringType!.Name}.{m.Name}({p.Name})", Found: Unchecked(p.ParameterType, [], p.Name!))))
            .Where(x => x.Found is not null)
            .Select(x => $"{x.Method}: {x.Found}")
            .ToList();

        Assert.Empty(inside);
    }

    [Fact]
    public void Unchecked_AReferenceOrIdInsideAnArgument_IsFound()
    {
        Assert.NotNull(Unchecked(typeof(Holder), [], "h"));
        Assert.NotNull(Unchecked(typeof(List<GrainId>), [], "l"));
        Assert.NotNull(Unchecked(typeof(Dictionary<string, object>), [], "d"));
        Assert.NotNull(Unchecked(typeof(IGrainObserver[]), [], "a"));
        Assert.Null(Unchecked(typeof(Dictionary<string, string>), [], "d"));
        Assert.Null(Unchecked(typeof(byte[]), [], "b"));
    }

    private sealed record Holder(string Name, Nested Inner);

    private sealed record Nested(AgentSecurity.Abstractions.Audit.ISecurityEventObserver Observer);

    /// <summary>The path to a reference, grain id or <c>object</c> in <paramref name="type"/>'s members, or null.</summary>
    private static string? Unchecked(Type type, HashSet<Type> seen, string path)
    {
        if (type == typeof(object) || typeof(IAddressable).IsAssignableFrom(type) || type == typeof(GrainId) || type == typeof(IdSpan) || type == typeof(GrainType))
        {
            return $"{path}: {type.Name}";
        }

        if (type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(DateTimeOffset) || type == typeof(DateTime)
            || type == typeof(TimeSpan) || type == typeof(Guid) || type == typeof(CancellationToken) || !seen.Add(type))
        {
            return null;
        }

        if (type.HasElementType)
        {
            return Unchecked(type.GetElementType()!, seen, path + "[]");
        }

        foreach (var argument in type.IsGenericType ? type.GetGenericArguments() : [])
        {
            if (Unchecked(argument, seen, $"{path}<{argument.Name}>") is { } found)
            {
                return found;
            }
        }

        if (type.Namespace?.StartsWith("System", StringComparison.Ordinal) == true)
        {
            return null;
        }

        const BindingFlags Members = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;
        var memberTypes = type.GetFields(Members).Select(f => (f.Name, f.FieldType));
        foreach (var (name, memberType) in memberTypes)
        {
            if (Unchecked(memberType, seen, $"{path}.{name}") is { } found)
            {
                return found;
            }
        }

        return null;
    }
}
