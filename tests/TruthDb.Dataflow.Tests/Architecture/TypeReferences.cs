using System.Reflection;
using System.Reflection.Emit;

namespace TruthDb.Dataflow.Tests.Architecture;

/// <summary>One type's use of another, and where it was found.</summary>
/// <param name="From">The type that uses.</param>
/// <param name="To">The type used.</param>
/// <param name="Via">Where: a base type, a field, a signature, a local, an instruction of a method body.</param>
internal readonly record struct TypeReference(Type From, Type To, string Via);

/// <summary>
/// Every type a compiled type uses, read from the assembly: base type and interfaces, custom
/// attributes, fields, method and constructor signatures and generic constraints, local variables,
/// and every type, method or field token in the IL of each method body (calls, allocations, casts,
/// <c>typeof</c>, field accesses). Compiler-generated types (lambdas' closures, async and iterator
/// state machines) are nested in the type whose code they hold, so their uses count as that type's.
/// Constants are the one thing it cannot see (the compiler copies their values into the IL).
/// </summary>
internal static class TypeReferences
{
    private const BindingFlags Declared = BindingFlags.DeclaredOnly | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    /// <summary>The uses of every type of <paramref name="assembly"/> whose namespace starts with <paramref name="namespacePrefix"/>.</summary>
    public static List<TypeReference> In(Assembly assembly, string namespacePrefix)
    {
        var found = new List<TypeReference>();
        foreach (var type in assembly.GetTypes())
        {
            if (type.Namespace is { } ns && (ns == namespacePrefix || ns.StartsWith(namespacePrefix + ".", StringComparison.Ordinal)))
            {
                found.AddRange(Of(type));
            }
        }

        return found;
    }

    /// <summary>The uses of <paramref name="type"/> (its nested types are types of their own).</summary>
    public static List<TypeReference> Of(Type type)
    {
        var found = new List<TypeReference>();
        void Add(Type? used, string via)
        {
            foreach (var part in Parts(used))
            {
                found.Add(new TypeReference(type, part, via));
            }
        }

        Add(type.BaseType, "base type");
        foreach (var contract in type.GetInterfaces())
        {
            Add(contract, "interface");
        }

        AddAttributes(type.CustomAttributes, "attribute", Add);
        foreach (var field in type.GetFields(Declared))
        {
            Add(field.FieldType, $"field {field.Name}");
            AddAttributes(field.CustomAttributes, $"attribute of field {field.Name}", Add);
        }

        foreach (var property in type.GetProperties(Declared))
        {
            Add(property.PropertyType, $"property {property.Name}");
        }

        foreach (var method in type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared)))
        {
            var where = $"{(method.IsConstructor ? "constructor" : "method " + method.Name)}";
            if (method is MethodInfo info)
            {
                Add(info.ReturnType, $"return type of {where}");
                foreach (var argument in info.GetGenericArguments())
                {
                    foreach (var constraint in argument.GetGenericParameterConstraints())
                    {
                        Add(constraint, $"constraint of {where}");
                    }
                }
            }

            foreach (var parameter in method.GetParameters())
            {
                Add(parameter.ParameterType, $"parameter {parameter.Name} of {where}");
            }

            AddAttributes(method.CustomAttributes, $"attribute of {where}", Add);
            AddBody(type, method, where, Add);
        }

        return found;
    }

    /// <summary>The types a type is made of: itself, or its element type, or its generic definition and arguments.</summary>
    public static IEnumerable<Type> Parts(Type? type)
    {
        if (type is null || type.IsGenericParameter || type.IsFunctionPointer)
        {
            yield break;
        }

        if (type.HasElementType)
        {
            foreach (var part in Parts(type.GetElementType()))
            {
                yield return part;
            }

            yield break;
        }

        if (type.IsGenericType && !type.IsGenericTypeDefinition)
        {
            yield return type.GetGenericTypeDefinition();
            foreach (var argument in type.GetGenericArguments())
            {
                foreach (var part in Parts(argument))
                {
                    yield return part;
                }
            }

            yield break;
        }

        yield return type;
    }

    private static void AddAttributes(IEnumerable<CustomAttributeData> attributes, string via, Action<Type?, string> add)
    {
        foreach (var attribute in attributes)
        {
            add(attribute.AttributeType, via);
        }
    }

    // The locals and the type, method and field tokens of the method's IL.
    private static void AddBody(Type type, MethodBase method, string where, Action<Type?, string> add)
    {
        var body = method.GetMethodBody();
        if (body is null)
        {
            return;
        }

        foreach (var local in body.LocalVariables)
        {
            add(local.LocalType, $"local of {where}");
        }

        var il = body.GetILAsByteArray() ?? [];
        var typeArguments = type.IsGenericType ? type.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (var at = 0; at < il.Length;)
        {
            var value = il[at] == 0xFE ? (short)(0xFE00 | il[at + 1]) : il[at];
            var opCode = OpCodesByValue[value];
            at += opCode.Size;
            switch (opCode.OperandType)
            {
                case OperandType.InlineType or OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineTok:
                    var member = method.Module.ResolveMember(BitConverter.ToInt32(il, at), typeArguments, methodArguments);
                    var via = $"{opCode.Name} in {where}";
                    switch (member)
                    {
                        case Type used:
                            add(used, via);
                            break;
                        case FieldInfo field:
                            add(field.DeclaringType, via);
                            add(field.FieldType, via);
                            break;
                        case MethodBase called:
                            add(called.DeclaringType, via);
                            if (called is MethodInfo calledInfo)
                            {
                                add(calledInfo.ReturnType, via);
                                foreach (var argument in calledInfo.GetGenericArguments())
                                {
                                    add(argument, via);
                                }
                            }

                            foreach (var parameter in called.GetParameters())
                            {
                                add(parameter.ParameterType, via);
                            }

                            break;
                    }

                    at += 4;
                    break;
                case OperandType.InlineSwitch:
                    at += 4 + (4 * BitConverter.ToInt32(il, at));
                    break;
                default:
                    at += OperandSize(opCode.OperandType);
                    break;
            }
        }
    }

    private static int OperandSize(OperandType operand) => operand switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        _ => 4,
    };
}
