SELECT count(*) AS count_1 
FROM person 
WHERE person.lead_score IS NOT NULL AND person.lead_score >= ? AND (person.id IN (SELECT activity.person_id 
FROM activity 
WHERE activity.activity_type_id = ? AND activity.activity_date IS NOT NULL AND activity.activity_date >= ? AND activity.activity_date <= ? AND activity.primary_attribute_value IS NOT NULL AND instr(CASE WHEN length(activity.primary_attribute_value) = length(CAST(activity.primary_attribute_value AS BLOB)) THEN lower(activity.primary_attribute_value) ELSE kampanj_fold(activity.primary_attribute_value) END, ?) > ?) OR (SELECT count(*) AS count_2 
FROM activity 
WHERE activity.person_id = person.id AND activity.activity_type_id = ? AND activity.activity_date IS NOT NULL AND activity.activity_date >= ? AND activity.activity_date <= ? AND JSON_EXTRACT(activity.attributes, ?) IS 1) >= ?) AND person.id IN (SELECT list_member.person_id 
FROM list_member 
WHERE list_member.list_id IN (__[POSTCOMPILE_list_id_1]))
