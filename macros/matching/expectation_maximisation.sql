{#-
    Fellegi-Sunter parameters by expectation maximisation over aggregated comparison vectors.

    The heavy work (one GROUP BY over the candidate pairs) happened in the warehouse; what
    arrives here is a small table of distinct comparison vectors with their pair counts. The
    arithmetic runs in the dbt process, so both warehouses get bit-identical parameters.

    For each training rule (each blocking rule with enough pairs) EM runs over the pairs the
    rule holds for, estimating m for every comparison the rule does not fix; u stays at its
    random-sampling estimate. A comparison's m is the mean of its estimates across rules.

    Where label rules (var matching_label_rules) apply, the pairs they hold for are taken as
    matches and each other comparison's m is its level distribution among them; EM then only
    trains the comparisons no label rule covers.

    The prior lambda is the probability that two records drawn at random match, as in
    Fellegi and Sunter: a pair's weight adds the evidence of every comparison, the blocking
    columns' included, so the prior must not be conditioned on the pair being a candidate.
    Assuming blocking keeps (nearly) every match, EM over all pairs reduces to a fixed point
    over the candidates: lambda = (sum over candidate pairs of their posterior under lambda)
    / (number of all pairs), the other pairs' posteriors being zero.
-#}

{#- rows: agate rows of (gamma per comparison..., pair_count); u: {name: {gamma: u}}.
    Returns {'m': {name: {gamma: m}}, 'lambda': float, 'iterations': int}. -#}
{% macro em_estimate(rows, comparisons, u, fixed_m=none, initial_lambda=0.5, all_pairs=none) %}
    {%- set m = {} -%}
    {%- for comparison in comparisons -%}
        {%- if fixed_m is not none -%}
            {%- do m.update({comparison.name: fixed_m[comparison.name]}) -%}
        {%- else -%}
            {%- set top = comparison.levels | length -%}
            {%- set start = {} -%}
            {%- for gamma in range(0, top + 1) -%}
                {%- do start.update({gamma: (0.05 if gamma < top else 0.0) + (0.9 if gamma == top else 0.0)
                                             + (0.05 / top if 0 < gamma < top else 0.0)}) -%}
            {%- endfor -%}
            {%- do m.update({comparison.name: start}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set columns = comparisons | length -%}
    {%- set state = namespace(lam=initial_lambda, done=false, iterations=0) -%}
    {%- for iteration in range(var('matching_em_max_iterations') | int) if not state.done -%}
        {%- set totals = namespace(matched=0.0, pairs=0.0) -%}
        {%- set matched_by_level = {} -%}
        {%- for comparison in comparisons -%}{%- do matched_by_level.update({comparison.name: {}}) -%}{%- endfor -%}
        {%- for row in rows -%}
            {%- set count = row[columns] | float -%}
            {%- set product = namespace(match=state.lam, non_match=1.0 - state.lam) -%}
            {%- for comparison in comparisons -%}
                {%- set gamma = row[loop.index0] | int -%}
                {%- if gamma >= 0 -%}
                    {%- set product.match = product.match * m[comparison.name][gamma] -%}
                    {%- set product.non_match = product.non_match * u[comparison.name][gamma] -%}
                {%- endif -%}
            {%- endfor -%}
            {%- set posterior = product.match / (product.match + product.non_match) -%}
            {%- set totals.matched = totals.matched + count * posterior -%}
            {%- set totals.pairs = totals.pairs + count -%}
            {%- for comparison in comparisons -%}
                {%- set gamma = row[loop.index0] | int -%}
                {%- if gamma >= 0 -%}
                    {%- set level_sums = matched_by_level[comparison.name] -%}
                    {%- do level_sums.update({gamma: level_sums.get(gamma, 0.0) + count * posterior}) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- set change = namespace(largest=0.0) -%}
        {%- if fixed_m is none -%}
            {%- for comparison in comparisons -%}
                {%- set level_sums = matched_by_level[comparison.name] -%}
                {%- set denominator = level_sums.values() | sum -%}
                {%- if denominator > 0 -%}
                    {%- set updated = {} -%}
                    {%- for gamma in m[comparison.name] -%}
                        {%- set value = [level_sums.get(gamma, 0.0) / denominator, 0.000001] | max -%}
                        {%- set change.largest = [change.largest, (value - m[comparison.name][gamma]) | abs] | max -%}
                        {%- do updated.update({gamma: value}) -%}
                    {%- endfor -%}
                    {%- do m.update({comparison.name: updated}) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
        {%- set pair_total = all_pairs if all_pairs is not none else totals.pairs -%}
        {%- set new_lambda = [[totals.matched / pair_total, 0.999999] | min, 0.000000000001] | max
            if pair_total > 0 else state.lam -%}
        {%- set change.largest = [change.largest, ((new_lambda - state.lam) / state.lam) | abs
            if all_pairs is not none else (new_lambda - state.lam) | abs] | max -%}
        {%- set state.lam = new_lambda -%}
        {%- set state.iterations = state.iterations + 1 -%}
        {%- if change.largest < var('matching_em_tolerance') | float -%}
            {%- set state.done = true -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return({'m': m, 'lambda': state.lam, 'iterations': state.iterations}) }}
{% endmacro %}


{#- Train m per comparison over every usable rule and lambda over all candidate pairs.
    Returns {'m': {name: {gamma: m}}, 'lambda': float, 'trained_by': {name: [rule indexes]}}. -#}
{% macro fellegi_sunter_estimates(patterns, u_relation, comparisons, rules, profile_count) %}
    {%- set u = {} -%}
    {%- for row in run_query('select comparison_name, gamma, u_probability from ' ~ u_relation).rows -%}
        {%- if row[0] not in u -%}{%- do u.update({row[0]: {}}) -%}{%- endif -%}
        {%- do u[row[0]].update({row[1] | int: row[2] | float}) -%}
    {%- endfor -%}
    {%- set m_sums = {} -%}
    {%- set trained_by = {} -%}
    {%- for comparison in comparisons -%}{%- do trained_by.update({comparison.name: []}) -%}{%- endfor -%}
    {%- set labelled = {} -%}
    {%- for rule in rules if rule in var('matching_label_rules', []) -%}
        {%- set fixed = [] -%}
        {%- for key in rule -%}{%- do fixed.append(cdp.blocking_key_source(key) | trim) -%}{%- endfor -%}
        {%- for comparison in comparisons if comparison.name not in fixed -%}
            {%- set gamma_column = 'gamma_' ~ comparison.name -%}
            {%- set rows = run_query(
                'select ' ~ gamma_column ~ ', sum(pair_count) from ' ~ patterns ~ ' where rule_'
                ~ (rules.index(rule) + 1) ~ '_holds and ' ~ gamma_column ~ ' >= 0 group by ' ~ gamma_column).rows -%}
            {%- set total = namespace(n=0) -%}
            {%- for row in rows -%}{%- set total.n = total.n + (row[1] | int) -%}{%- endfor -%}
            {%- if total.n >= 50 -%}
                {%- if comparison.name not in labelled -%}{%- do labelled.update({comparison.name: {}}) -%}{%- endif -%}
                {%- for gamma in range(0, comparison.levels | length + 1) -%}
                    {%- set found = namespace(n=0) -%}
                    {%- for row in rows if (row[0] | int) == gamma -%}{%- set found.n = row[1] | int -%}{%- endfor -%}
                    {%- do labelled[comparison.name].update({gamma: labelled[comparison.name].get(gamma, 0.0)
                        + [found.n / total.n, 0.000001] | max}) -%}
                {%- endfor -%}
                {%- do trained_by[comparison.name].append('labels:' ~ (rules.index(rule) + 1)) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for name, sums in labelled.items() -%}
        {%- do m_sums.update({name: sums}) -%}
    {%- endfor -%}
    {%- for rule in rules if rule not in var('matching_label_rules', []) -%}
        {%- set rule_index = rules.index(rule) + 1 -%}
        {%- set fixed = [] -%}
        {%- for key in rule -%}{%- do fixed.append(cdp.blocking_key_source(key) | trim) -%}{%- endfor -%}
        {%- set free = [] -%}
        {%- for comparison in comparisons if comparison.name not in fixed and comparison.name not in labelled -%}
            {%- do free.append(comparison) -%}
        {%- endfor -%}
        {%- if free -%}
            {%- set gammas = [] -%}
            {%- for comparison in free -%}{%- do gammas.append('gamma_' ~ comparison.name) -%}{%- endfor -%}
            {%- set rows = run_query(
                'select ' ~ gammas | join(', ') ~ ', sum(pair_count) from ' ~ patterns
                ~ ' where rule_' ~ rule_index ~ '_holds group by ' ~ gammas | join(', ')
                ~ ' order by ' ~ gammas | join(', ')).rows -%}
            {%- set pair_total = namespace(n=0) -%}
            {%- for row in rows -%}{%- set pair_total.n = pair_total.n + (row[free | length] | int) -%}{%- endfor -%}
            {%- if pair_total.n >= 20 -%}
                {%- set estimate = cdp.em_estimate(rows, free, u) -%}
                {%- for comparison in free -%}
                    {%- if comparison.name not in m_sums -%}{%- do m_sums.update({comparison.name: {}}) -%}{%- endif -%}
                    {%- for gamma, value in estimate.m[comparison.name].items() -%}
                        {%- do m_sums[comparison.name].update({gamma: m_sums[comparison.name].get(gamma, 0.0) + value}) -%}
                    {%- endfor -%}
                    {%- do trained_by[comparison.name].append(rule_index) -%}
                {%- endfor -%}
                {{ log('fellegi-sunter: rule ' ~ rule_index ~ ' ' ~ rule ~ ' trained m of '
                       ~ (free | map(attribute='name') | join(', ')) ~ ' on ' ~ pair_total.n ~ ' pairs in '
                       ~ estimate.iterations ~ ' iterations', info=true) }}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set m = {} -%}
    {%- for comparison in comparisons -%}
        {%- set runs = trained_by[comparison.name] | length -%}
        {%- if runs > 0 -%}
            {%- set averaged = {} -%}
            {%- for gamma, total in m_sums[comparison.name].items() -%}
                {%- do averaged.update({gamma: total / runs}) -%}
            {%- endfor -%}
            {%- do m.update({comparison.name: averaged}) -%}
        {%- else -%}
            {{ log('fellegi-sunter: no rule could train ' ~ comparison.name ~ '; using default m', info=true) }}
            {%- set top = comparison.levels | length -%}
            {%- set default = {} -%}
            {%- for gamma in range(0, top + 1) -%}
                {%- do default.update({gamma: 0.9 if gamma == top else 0.1 / top}) -%}
            {%- endfor -%}
            {%- do m.update({comparison.name: default}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set all_gammas = [] -%}
    {%- for comparison in comparisons -%}{%- do all_gammas.append('gamma_' ~ comparison.name) -%}{%- endfor -%}
    {%- set all_rows = run_query(
        'select ' ~ all_gammas | join(', ') ~ ', sum(pair_count) from ' ~ patterns
        ~ ' group by ' ~ all_gammas | join(', ') ~ ' order by ' ~ all_gammas | join(', ')).rows -%}
    {%- set all_pairs = (profile_count * (profile_count - 1) / 2) | float -%}
    {%- set candidates = namespace(n=0) -%}
    {%- for row in all_rows -%}{%- set candidates.n = candidates.n + (row[comparisons | length] | int) -%}{%- endfor -%}
    {%- set prior = cdp.em_estimate(all_rows, comparisons, u, fixed_m=m,
                                    initial_lambda=[candidates.n / [all_pairs, 1] | max, 0.5] | min,
                                    all_pairs=[all_pairs, 1] | max) -%}
    {{ log('fellegi-sunter: probability that two random profiles match ' ~ prior['lambda']
           ~ ' (' ~ candidates.n ~ ' candidate pairs of ' ~ all_pairs ~ ')', info=true) }}
    {{ return({'m': m, 'lambda': prior['lambda'], 'trained_by': trained_by}) }}
{% endmacro %}
